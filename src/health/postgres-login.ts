import type { AdapterFactory } from '../adapters/context.js';
import { RotationError } from '../errors/errors.js';
import type { PostgresSystem, SystemPolicy } from '../policy/types.js';
import type { PoolerSettle } from '../postgres/pooler.js';
import type { Secret } from '../secret/secret.js';
import { DEFAULT_SETTLE_SECONDS, describeSettle, loginThroughPooler, throughPooler } from '../postgres/pooler.js';
import { connectionConfig, loginConfig, tryLogin } from '../postgres/connect.js';
import { systemCa } from '../adapters/system-ca.js';
import { renderFormat } from '../adapters/format.js';
import type { HealthProbe } from './probe.js';
import { optionsOf } from '../adapters/options.js';
import { untilDeadline } from '../runtime/deadline.js';

/**
 * The new value logs in through the consumer's own connection string (`url`, with {password}),
 * or, without one, the way the method logged in (a provider's database), else as the role on
 * the admin URL's host and database.
 *
 * Through a pooler that caches credentials (Supabase's Supavisor: `pooler: true`, or a
 * *.pooler.supabase.com host) the first logins after a change may be refused with 28P01 while the
 * cache catches up: they are retried a few seconds apart for settle_seconds (default 60, see
 * postgres/pooler.ts), and the evidence records how long the pooler took.
 */
export const postgresLogin: AdapterFactory<HealthProbe> = (spec, ctx) => {
  const o = optionsOf(spec, ctx.runtime);
  const template = o.optionalString('url');
  const timeout = o.number('timeout_seconds', 30);
  const settleSeconds = o.number('settle_seconds', DEFAULT_SETTLE_SECONDS);
  // The login holding the new value (the role; for alternating-roles the login just switched to).
  const user = () => ctx.user?.() ?? ctx.credential.role;
  const label = template
    ? `postgres-login ${template.replace(/:\{password(_url)?\}@/, ':***@')}`
    : `postgres-login as ${ctx.credential.role}`;
  const ca = systemCa(ctx);
  let settle: PoolerSettle | undefined;
  return {
    label,
    async probe(value, live) {
      const config = template
        ? connectionConfig(renderFormat(template, value, user()), undefined, ca)
        : live
          ? loginConfig(live.login, value)
          : connectionConfig(adminUrlOf(ctx.system, spec.path), { user: user(), password: value }, ca);
      const where = `${config.user} logged in to ${config.host}:${config.port ?? 5432}/${config.database}`;
      if (throughPooler(config.host, o.value('pooler'))) {
        const pooled = await loginThroughPooler(ctx.runtime, config, settleSeconds);
        settle = pooled.settle;
        if (!pooled.ok) {
          throw new RotationError(`${label}: ${describeSettle(pooled.settle)}: ${pooled.why}`, {
            hint: 'the new value is live and stored; a pooler that still refuses it after the window needs its credentials refreshed by the provider (Supabase: restart the pooler or contact support); raise settle_seconds if it only needs longer',
          });
        }
        return `${where} through the pooler; ${describeSettle(pooled.settle)}`;
      }
      const result = await untilDeadline(
        ctx.runtime,
        timeout,
        async () => {
          const login = await tryLogin(config);
          return login.ok ? { ok: true, value: where } : { ok: false, why: login.message };
        },
        1_000,
      );
      if (!result.ok) throw new RotationError(`${label}: ${result.why}`);
      return result.value;
    },
    pooler: () => settle,
  };
};

function adminUrlOf(system: SystemPolicy, path: string): Secret {
  if (system.type === 'postgres') return (system as PostgresSystem).adminUrl;
  throw new RotationError(`${path}: give url (a postgresql:// URL with {password}): a ${system.type} system has no admin URL to log in on`);
}
