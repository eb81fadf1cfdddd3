import type { CredentialPolicy, Policy } from '../policy/types.js';
import { Secret } from '../secret/secret.js';
import { loginsOf } from '../policy/logins.js';
import { EXPOSED_AS, formOfType } from '../registry/exposed-as.js';

/** What an alert's secret is, once read: a login and password, or a key. Never printed. */
export type Leak = { form: 'connection-string'; user: string; password: Secret } | { form: 'key'; value: Secret };

/** A value a managed credential is known to hold now: `current`, or what a readable store holds. */
export interface KnownValue {
  value: Secret;
  /** `current` or a store's label. */
  source: string;
}

/** A credential of the policy as the matcher sees it. */
export interface Managed {
  credential: CredentialPolicy;
  form: 'connection-string' | 'key';
  /** The logins its value logs in as: the role, or both logins of alternating-roles. */
  users: string[];
  known: KnownValue[];
}

export type Match =
  | { matched: false; reason: string }
  | {
      matched: true;
      credential: string;
      /** The login the leaked value names (connection strings). */
      user?: string;
      value: Secret;
      /** The leaked value is the one in use now (`current` or a store's); otherwise an older value of the role. */
      current: boolean;
      source?: string;
    };

/**
 * Reads an alert's secret as its type says: a connection string (URL, `jdbc:` URL with
 * `?user=&password=`, or libpq `key=value` words) for its login and password, anything else as a
 * key. Returns a reason when it cannot be read (the caller masks what it returns at once).
 */
export function parseLeak(secretType: string, secret: Secret): Leak | { problem: string } {
  if (formOfType(secretType) === 'key') return { form: 'key', value: secret };
  const text = secret.reveal().trim();
  const login = fromUrl(text) ?? fromKeywords(text);
  if (!login) return { problem: 'the connection string could not be read (neither a postgresql:// URL nor key=value words)' };
  if (!login.user) return { problem: 'the connection string names no user' };
  if (!login.password) return { problem: `the connection string of user ${login.user} holds no password` };
  return { form: 'connection-string', user: login.user, password: new Secret(login.password) };
}

function fromUrl(text: string): { user?: string; password?: string } | undefined {
  const m = /^(?:jdbc:)?postgres(?:ql)?:\/\/([^\s]*)$/i.exec(text);
  if (!m) return undefined;
  const rest = m[1];
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf('@');
  const query = new URLSearchParams(rest.includes('?') ? rest.slice(rest.indexOf('?') + 1).split('#')[0] : '');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const userinfo = at === -1 ? '' : authority.slice(0, at);
  const colon = userinfo.indexOf(':');
  const user = (colon === -1 ? decode(userinfo) : decode(userinfo.slice(0, colon))) || query.get('user') || undefined;
  const password = (colon === -1 ? '' : decode(userinfo.slice(colon + 1))) || query.get('password') || undefined;
  return { user, password };
}

function fromKeywords(text: string): { user?: string; password?: string } | undefined {
  const words = new Map<string, string>();
  for (const m of text.matchAll(/([A-Za-z_]+)\s*=\s*('(?:\\.|[^'\\])*'|[^\s;]+)/g)) {
    const raw = m[2];
    words.set(m[1].toLowerCase(), raw.startsWith("'") ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw);
  }
  if (!words.has('password') && !words.has('user')) return undefined;
  return { user: words.get('user') ?? words.get('username'), password: words.get('password') };
}

/** The credentials exposure can match, with the values each is known to hold (read by the caller). */
export function managedOf(policy: Policy, known: (credential: CredentialPolicy) => KnownValue[]): Managed[] {
  const out: Managed[] = [];
  for (const credential of Object.values(policy.credentials)) {
    const exposed = EXPOSED_AS[credential.method];
    if (!exposed) continue;
    const users = credential.method === 'alternating-roles' ? loginsOf(credential) : [credential.role];
    out.push({ credential, form: exposed.form, users, known: known(credential) });
  }
  return out;
}

/**
 * Matches a leak to a managed credential. Values are compared as SHA-256 digests in constant time
 * (Secret.equals), every candidate compared, so timing tells nothing of a near match.
 * A connection string matches by its login (the role, or either login of alternating-roles) and
 * is `current` when its password is a value the credential holds now; a key only by its value.
 */
export function matchLeak(leak: Leak, managed: Managed[]): Match {
  if (leak.form === 'key') {
    const hits = managed
      .filter((m) => m.form === 'key')
      .flatMap((m) => m.known.filter((k) => k.value.equals(leak.value)).map((k) => ({ m, k })));
    if (hits.length === 0)
      return { matched: false, reason: 'the key is not the value of any managed credential (current or a readable store)' };
    return { matched: true, credential: hits[0].m.credential.id, value: leak.value, current: true, source: hits[0].k.source };
  }
  const byUser = managed.filter((m) => m.form === 'connection-string' && m.users.includes(leak.user));
  if (byUser.length === 0) return { matched: false, reason: `user ${leak.user} is not a managed role or login` };
  const holding = byUser.map((m) => ({ m, k: m.known.filter((k) => k.value.equals(leak.password))[0] })).filter((h) => h.k);
  if (holding.length > 0)
    return {
      matched: true,
      credential: holding[0].m.credential.id,
      user: leak.user,
      value: leak.password,
      current: true,
      source: holding[0].k!.source,
    };
  if (byUser.length > 1) {
    return {
      matched: false,
      reason: `user ${leak.user} belongs to several credentials (${byUser.map((m) => m.credential.id).join(', ')}) and the password is none of their current values`,
    };
  }
  return { matched: true, credential: byUser[0].credential.id, user: leak.user, value: leak.password, current: false };
}
