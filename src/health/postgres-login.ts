import type { AdapterFactory } from '../adapters/context.js';
import { RotationError } from '../errors/errors.js';
import type { PostgresSystem } from '../policy/types.js';
import { connectionConfig, tryLogin } from '../postgres/connect.js';
import { systemCa } from '../adapters/system-ca.js';
import { renderFormat } from '../adapters/format.js';
import type { HealthProbe } from './probe.js';
import { untilDeadline } from '../runtime/deadline.js';

/**
 * The new value logs in through the consumer's own connection string (`url`, with {password}),
 * or, without one, as the role on the admin URL's host and database.
 */
export const postgresLogin: AdapterFactory<HealthProbe> = (spec, ctx) => {
  const template = spec.options.url as string | undefined;
  const timeout = Number(spec.options.timeout_seconds ?? 30);
  // The login holding the new value (the role; for alternating-roles the login just switched to).
  const user = () => ctx.user?.() ?? ctx.credential.role;
  const label = template ? `postgres-login ${template.replace(/:\{password(_url)?\}@/, ':***@')}` : `postgres-login as ${ctx.credential.role}`;
  const ca = systemCa(ctx);
  return {
    label,
    async probe(value) {
      const config = template
        ? connectionConfig(renderFormat(template, value, user()), undefined, ca)
        : connectionConfig((ctx.system as PostgresSystem).adminUrl, { user: user(), password: value }, ca);
      const result = await untilDeadline(ctx.runtime, timeout, async () => {
        const login = await tryLogin(config);
        return login.ok ? { ok: true, value: `${config.user} logged in to ${config.host}:${config.port ?? 5432}/${config.database}` } : { ok: false, why: login.message };
      }, 1_000);
      if (!result.ok) throw new RotationError(`${label}: ${result.why}`);
      return result.value;
    },
  };
};
