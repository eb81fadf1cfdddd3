import type { AdapterContext } from '../adapters/context.js';
import { RotationError } from '../errors/errors.js';
import type { Secret } from '../secret/secret.js';
import { supabaseClient, supabaseSystem, type ApiKey, type SupabaseClient } from '../supabase/client.js';
import { describeProbe, tryProjectKey } from '../supabase/project-key.js';
import { untilDeadline } from '../runtime/deadline.js';
import type { CredentialMethod, PreflightReport, RevocationProof, StagedChange } from './method.js';

const KEY_NAME = /^[a-z_][a-z0-9_]+$/;
/** CreateApiKeyBody.name in the Management API's description: 4 to 64 characters. */
const MAX_NAME = 64;
/** The names this tool gives keys: `<base>` or `<base>_<yyyymmddhhmm[ss]>`. */
const STAMP = /_\d{12}(\d{2})?$/;
const JWT = /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/;
/** A new key may take a moment to reach the API gateway, a deleted one to leave its cache. */
const PROPAGATION_SECONDS = 60;

export function legacyHint(ref: string): string {
  return [
    'legacy JWT keys (anon, service_role) cannot be rotated through the Management API: a new JWT secret would invalidate both at once.',
    `Move to the new keys: create a publishable key (replaces anon) and a secret key (replaces service_role) in the dashboard (Project Settings → API Keys) or with POST /v1/projects/${ref}/api-keys;`,
    'switch every consumer to them; disable the legacy keys with PUT /v1/projects/' + ref + '/api-keys/legacy?enabled=false;',
    'then set key_name and current of this credential to the new key and use method supabase-secret-key or supabase-publishable-key',
  ].join(' ');
}

/**
 * A Supabase API key (the new `sb_secret_…` / `sb_publishable_…` kind), rotated through the
 * Management API with no downtime: several keys of a type may be live at once, so the new key is
 * created next to the old one (stage), stored and rolled out, and the old key is deleted only at
 * the end (revoke), after consumers and health checks passed. Until then the old key works, so
 * any failure leaves it usable; abort() deletes the unused new key.
 */
function supabaseKey(type: 'secret' | 'publishable') {
  return (ctx: AdapterContext): CredentialMethod => {
    const { runtime, credential } = ctx;
    const sys = supabaseSystem(ctx.system, runtime);
    const api: SupabaseClient = supabaseClient(runtime, sys);
    const keyName = String(credential.settings.key_name ?? '');
    const description = credential.settings.description as string | undefined;
    const where = `Supabase project ${sys.projectRef} ${type} key`;
    if (!KEY_NAME.test(keyName)) {
      throw new RotationError(`credentials.${credential.id}.key_name: expected the current key's name in Supabase (^[a-z_][a-z0-9_]+$)`);
    }
    const base = keyName.replace(STAMP, '');
    // New keys are named <base>_<yyyymmddhhmmss> at most, and the Management API takes names of 4 to 64 characters.
    if (base.length > MAX_NAME - 15) {
      throw new RotationError(
        `credentials.${credential.id}.key_name: '${base}' is ${base.length} characters; new keys are named ${base}_<yyyymmddhhmm[ss]> and Supabase takes at most ${MAX_NAME}, so use at most ${MAX_NAME - 15}`,
      );
    }
    const ours = (k: ApiKey) =>
      k.type === type && (k.name === base || (k.name.startsWith(`${base}_`) && STAMP.test(k.name) && k.name.replace(STAMP, '') === base));
    let old: ApiKey | undefined;
    /** Keys of this credential left live by an earlier run that did not finish. */
    let leftovers: ApiKey[] = [];
    let created: ApiKey | undefined;

    const refuseLegacy = (why: string) => {
      throw new RotationError(`${where}: ${why}`, { hint: legacyHint(sys.projectRef), code: 'LEGACY_KEY' });
    };

    return {
      name: `supabase-${type}-key (${where} ${base})`,
      generates: 'provider',

      async preflight(current): Promise<PreflightReport> {
        // Refused before any call: nothing may change for a key this method cannot rotate.
        if (current && JWT.test(current.reveal())) refuseLegacy('the current value is a legacy JWT key (eyJ…)');
        if (keyName === 'anon' || keyName === 'service_role') refuseLegacy(`'${keyName}' is a legacy JWT key`);
        const keys = await api.listKeys();
        const notes: string[] = [];
        const byValue = current ? keys.find((k) => k.value?.equals(current)) : undefined;
        if (byValue?.type === 'legacy') refuseLegacy(`the current value is the legacy key '${byValue.name}'`);
        if (byValue && byValue.type !== type) {
          throw new RotationError(`${where}: the current value is the ${byValue.type} key '${byValue.name}', not a ${type} key`, {
            hint: `use method supabase-${byValue.type}-key for it`,
          });
        }
        const named = keys.filter(ours);
        const exact = keys.find((k) => k.name === keyName);
        if (exact?.type === 'legacy') refuseLegacy(`'${keyName}' is a legacy key`);
        if (byValue) {
          old = byValue;
        } else if (named.length === 1) {
          old = named[0];
          if (current) notes.push(`the current value is not a key of project ${sys.projectRef}: key '${old.name}' found by name instead`);
        } else if (named.length > 1) {
          throw new RotationError(
            `${where}: ${named.length} keys are named like '${base}' (${named.map((k) => k.name).join(', ')}) and the current value matches none`,
            {
              hint: 'set current to the value the consumers use now, so the tool knows which key it replaces',
            },
          );
        } else {
          notes.push(`project ${sys.projectRef} has no ${type} key named like '${base}': a new one is created and nothing is revoked`);
        }
        leftovers = named.filter((k) => k.id !== old?.id);
        if (leftovers.length > 0) {
          notes.push(
            `key(s) ${leftovers.map((k) => k.name).join(', ')} were left live by an earlier run; they are deleted with the old key once the new one is in use`,
          );
        }
        let currentWorks = false;
        const probeValue = current ?? old?.value;
        if (current && byValue) {
          const seen = await tryProjectKey(runtime, sys.projectUrl, current);
          if (seen.status === 200) currentWorks = true;
          else if (seen.status === 403) {
            throw new RotationError(`${where}: cannot test the current key: ${describeProbe(seen)}`, {
              hint: 'a publishable key is tried at /auth/v1/settings and a secret key at /rest/v1/; check that the current value is the kind of key this method rotates',
            });
          } else if (seen.status !== 401) {
            throw new RotationError(`${where}: cannot test the current key: ${describeProbe(seen)}`, {
              hint: 'check project_url: it must be the project API (https://<ref>.supabase.co)',
            });
          }
        } else if (probeValue) {
          currentWorks = (await tryProjectKey(runtime, sys.projectUrl, probeValue)).status === 200;
        }
        return { currentWorks, notes };
      },

      async generate(): Promise<StagedChange> {
        const names = new Set((await api.listKeys()).map((k) => k.name));
        const stamp = runtime.now().toISOString().replace(/[-:T]/g, '').slice(0, 14);
        const name = names.has(`${base}_${stamp.slice(0, 12)}`) ? `${base}_${stamp}` : `${base}_${stamp.slice(0, 12)}`;
        const key = await api.createKey(type, name, description);
        if (!key.value)
          throw new RotationError(`${where}: Supabase created key ${name} but did not return its value`, {
            hint: `delete key ${name} in the dashboard and rerun`,
          });
        created = key;
        runtime.reporter.mask(key.value);
        return {
          value: key.value,
          reversible: true,
          async apply() {
            return `key ${name} created; the old key stays valid until it is revoked at the end, so there is nothing to switch at Supabase`;
          },
          async abort() {
            await api.deleteKey(key);
          },
        };
      },

      async verify(value) {
        const result = await untilDeadline(runtime, PROPAGATION_SECONDS, async () => {
          const seen = await tryProjectKey(runtime, sys.projectUrl, value);
          return seen.status === 200 ? { ok: true, value: seen.url } : { ok: false, why: describeProbe(seen) };
        });
        if (!result.ok) throw new RotationError(`${where}: the new key ${created?.name ?? ''} is not accepted: ${result.why}`);
        return { detail: `the new key ${created?.name ?? ''} answers HTTP 200 at ${result.value}` };
      },

      async revoke(oldValue, reason): Promise<RevocationProof> {
        const targets = [old, ...leftovers].filter((k): k is ApiKey => k !== undefined && k.id !== created?.id);
        if (targets.length === 0)
          return {
            tried: false,
            rejected: false,
            detail: `not tried: no previous ${type} key was known (only the new key is live, but nothing proved an old one refused)`,
          };
        const compromised =
          reason === 'exposure' ? { reason: `suspected exposure; rotated by credential-rotation (${credential.id})` } : undefined;
        const details: string[] = [];
        let tried = 0;
        for (const key of targets) {
          const outcome = await api.deleteKey(key, compromised);
          const value: Secret | undefined = key.value ?? (key === old ? oldValue : undefined);
          if (!value) {
            details.push(`key ${key.name} ${outcome}; its value is unknown, so it could not be tried`);
            continue;
          }
          const proof = await untilDeadline(runtime, PROPAGATION_SECONDS, async () => {
            const seen = await tryProjectKey(runtime, sys.projectUrl, value);
            return seen.status === 401 ? { ok: true, value: seen.url } : { ok: false, why: describeProbe(seen) };
          });
          tried++;
          if (!proof.ok)
            return {
              tried: true,
              rejected: false,
              detail: `key ${key.name} ${outcome}, but the project API still answers it: ${proof.why}`,
            };
          details.push(
            `key ${key.name} ${outcome}${compromised ? ' (flagged as compromised)' : ''}, refused with HTTP 401 at ${proof.value}`,
          );
        }
        // Honest evidence: deleted keys whose value was never known were not tried.
        return { tried: tried > 0, rejected: tried > 0, detail: tried > 0 ? details.join('; ') : `not tried: ${details.join('; ')}` };
      },

      async close() {},
    };
  };
}

export const supabaseSecretKey = supabaseKey('secret');
export const supabasePublishableKey = supabaseKey('publishable');
