// Which parts of a Postgres URL are secret: here, below the scrubber and postgres/url.ts, which both ask.

/**
 * libpq's connection parameters whose values are not secret (libpq-connect.html, "Parameter Key
 * Words"), and node-postgres's `ssl` and `uselibpqcompat`. password and sslpassword are secret; a
 * parameter not listed may be anything (a typo of password, a driver's token), so it is masked too.
 */
const PUBLIC_PARAMS = new Set([
  'host',
  'hostaddr',
  'port',
  'dbname',
  'user',
  'passfile',
  'require_auth',
  'channel_binding',
  'connect_timeout',
  'client_encoding',
  'options',
  'application_name',
  'fallback_application_name',
  'keepalives',
  'keepalives_idle',
  'keepalives_interval',
  'keepalives_count',
  'tcp_user_timeout',
  'replication',
  'gssencmode',
  'sslmode',
  'requiressl',
  'sslnegotiation',
  'sslcompression',
  'sslcert',
  'sslkey',
  'sslcertmode',
  'sslrootcert',
  'sslcrl',
  'sslcrldir',
  'sslsni',
  'requirepeer',
  'ssl_min_protocol_version',
  'ssl_max_protocol_version',
  'krbsrvname',
  'gsslib',
  'gssdelegation',
  'service',
  'target_session_attrs',
  'load_balance_hosts',
  'ssl',
  'uselibpqcompat',
]);

/** Whether libpq's parameter `name` holds nothing secret (its value may be shown). */
export function isPublicParam(name: string): boolean {
  return PUBLIC_PARAMS.has(name);
}

/** Whether `text` ends with a Postgres URL's scheme: postgresql://, postgres:// or SQLAlchemy's postgresql+psycopg2:// (Superset's URIs). */
export function endsWithPostgresScheme(text: string): boolean {
  return /(?:^|[^a-z0-9+.-])postgres(?:ql)?(?:\+[a-z0-9]+)?:\/\/$/i.test(text);
}
