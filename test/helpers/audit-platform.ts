import pg from 'pg';
import type { PostgresFixture } from './postgres.js';
import { scramVerifier } from '../../src/postgres/scram.js';
import { generatePassword } from '../../src/secret/generate.js';
import type { Secret } from '../../src/secret/secret.js';
import { REF, supabaseSystemYaml } from './supabase.js';

/**
 * The platform of databases-and-roles.md built correctly on one server, as `audit` should find it:
 * - odoo (Odoo SoR): odoo_app owns the database and its tables (readwrite, no admin attribute),
 *   superset_ro reads them (CONNECT, USAGE, SELECT, default privileges for later tables), doadmin
 *   is the break-glass admin (CREATEROLE, CREATEDB, as on DigitalOcean) that nothing uses;
 * - supabase (the Supabase project's Postgres): anon, authenticated, service_role as Supabase
 *   makes them (default privileges grant every table to all three), each table with RLS and a
 *   policy, a security_invoker view for anon.
 * The rotation admin holds pg_read_all_stats, as docs/audit.md asks.
 */
export async function buildAuditPlatform(fx: PostgresFixture): Promise<{ doadminPassword: Secret; supabaseUrl: string }> {
  const doadminPassword = generatePassword();
  await sql(fx, 'postgres', [
    `CREATE ROLE doadmin LOGIN CREATEROLE CREATEDB PASSWORD '${scramVerifier(doadminPassword)}'`,
    'GRANT pg_read_all_stats TO rotation_admin',
    'ALTER DATABASE odoo OWNER TO odoo_app',
    'CREATE DATABASE supabase',
    'CREATE ROLE anon NOLOGIN',
    'CREATE ROLE authenticated NOLOGIN',
    'CREATE ROLE service_role NOLOGIN BYPASSRLS',
  ]);
  await sql(fx, 'odoo', [
    'SET ROLE odoo_app',
    'CREATE TABLE public.res_partner (id serial PRIMARY KEY, name text)',
    'CREATE TABLE public.sale_order (id serial PRIMARY KEY, partner_id int REFERENCES public.res_partner(id), amount numeric)',
    'ALTER DEFAULT PRIVILEGES FOR ROLE odoo_app IN SCHEMA public GRANT SELECT ON TABLES TO superset_ro',
    'RESET ROLE',
    'GRANT CONNECT ON DATABASE odoo TO superset_ro',
    'GRANT USAGE ON SCHEMA public TO superset_ro',
    'GRANT SELECT ON ALL TABLES IN SCHEMA public TO superset_ro',
  ]);
  await sql(fx, 'supabase', [
    'GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role',
    'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role',
    'CREATE TABLE public.profiles (id uuid PRIMARY KEY, display_name text, public boolean)',
    'ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY',
    'CREATE POLICY profiles_read ON public.profiles FOR SELECT TO anon, authenticated USING (public)',
    'CREATE TABLE public.task_bus (id bigserial PRIMARY KEY, payload jsonb)',
    'ALTER TABLE public.task_bus ENABLE ROW LEVEL SECURITY',
    `CREATE POLICY task_bus_service ON public.task_bus TO service_role USING (true)`,
    'CREATE VIEW public.profile_names WITH (security_invoker = true) AS SELECT id, display_name FROM public.profiles',
  ]);
  const supabaseUrl = fx.platform.adminUrl.replace(/\/odoo$/, '/supabase');
  return { doadminPassword, supabaseUrl };
}

/** Runs statements as the superuser on one database. */
export async function sql(fx: PostgresFixture, database: string, statements: string[]): Promise<void> {
  const db = await fx.server.client(database);
  try {
    for (const statement of statements) await db.query(statement);
  } finally {
    await db.end();
  }
}

/** A session of `role` from another application, as an app container would hold it. */
export async function openSession(fx: PostgresFixture, role: string, password: Secret, application: string): Promise<pg.Client> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: fx.server.port,
    database: 'odoo',
    user: role,
    password: password.reveal(),
    application_name: application,
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** The platform's policy with its intent keys, on the fixture's server. */
export function auditPolicyYaml(extra: { odooApp?: string; supersetRo?: string; doadmin?: string; serviceRole?: string } = {}): string {
  return `version: 1
systems:
  odoo-sor:
    type: postgres
    admin_url: \${ROTATION_ADMIN_URL}
  odoo-do:
    type: digitalocean
    cluster_id: 9cc10173-e9ea-4176-9dbc-a4cee4c4ff30
    token: \${DIGITALOCEAN_TOKEN}
  supabase-db:
    type: postgres
    admin_url: \${SUPABASE_DB_URL}
    exposed_schemas: [public]
${supabaseSystemYaml(REF)}credentials:
  doadmin:
    system: odoo-do
    method: digitalocean-reset
    cadence: annually
    break_glass: true
    store:
      - file: { path: .secrets/do.env, key: DO_DB_ADMIN_PASSWORD }
${extra.doadmin ?? ''}  odoo_app:
    system: odoo-sor
    method: alter-role
    cadence: quarterly
    access: readwrite
    current: \${ODOO_DB_PASSWORD}
    store:
      - file: { path: .secrets/odoo.env, key: ODOO_DB_PASSWORD }
${extra.odooApp ?? ''}  superset_ro:
    system: odoo-sor
    method: alter-role
    cadence: quarterly
    access: readonly
    current: \${SUPERSET_RO_PASSWORD}
    store:
      - file: { path: .secrets/superset.env, key: SUPERSET_RO_PASSWORD }
    consumers:
      - superset-database:
          url: http://superset.local
          username: admin
          password: \${SUPERSET_PASSWORD}
          database_id: 1
          uri: postgresql+psycopg2://superset_ro:{password}@db:25060/odoo?sslmode=require
${extra.supersetRo ?? ''}  service_role:
    system: supabase-ssot
    method: supabase-secret-key
    key_name: service_key
    cadence: quarterly
    current: \${SUPABASE_SERVICE_ROLE_KEY}
    store:
      - file: { path: .secrets/supabase.env, key: SUPABASE_SERVICE_ROLE_KEY }
    consumers:
      - supabase-function-secrets: { names: [SERVICE_ROLE_KEY] }
${extra.serviceRole ?? ''}`;
}
