import type { Secret } from '../secret/secret.js';

/** The policy file after interpolation and validation. Values that carry credentials are Secrets. */
export interface Policy {
  file: string;
  version: 1;
  evidenceDir: string;
  /** `allow_outside_workspace: true`: evidence_dir and file stores may resolve outside the workspace. */
  allowOutsideWorkspace?: boolean;
  systems: Record<string, SystemPolicy>;
  credentials: Record<string, CredentialPolicy>;
  /** `exposure:`: where `exposures` reads GitHub secret-scanning alerts. */
  exposure?: ExposurePolicy;
  /** The values `${NAME}` brought into secret-bearing keys (src/secret/policy-secrets.ts): masked by every run. */
  secrets?: Secret[];
}

/** The top-level `exposure:` key. */
export interface ExposurePolicy {
  /** owner/name */
  repositories: string[];
  organizations: string[];
  /** As written, or the types that fit the policy's credentials (registry/exposed-as.ts). */
  secretTypes: string[];
}

export type SystemPolicy = PostgresSystem | ProviderSystem;

export interface PostgresSystem {
  id: string;
  type: 'postgres';
  adminUrl: Secret;
  lockTimeoutSeconds?: number;
  /** The CA that signed the server's certificate (PEM), from `ca:`. */
  ca?: string;
  /** `ca_from:`: the digitalocean system whose cluster's CA is read from DigitalOcean's API. */
  caFrom?: string;
  /**
   * `cluster:` (else `ca_from:`): the digitalocean system of the cluster this server is, so the
   * preflight can read the copies of a password DigitalOcean keeps (pools, managed users).
   */
  cluster?: string;
  /** Schemas an HTTP API serves to anon/authenticated (Supabase's PostgREST): `audit` checks RLS there. */
  exposedSchemas: string[];
}

/** Systems reached through a provider API (added by their methods). */
export interface ProviderSystem {
  id: string;
  type: string;
  settings: Record<string, unknown>;
}

export type Cadence = { months: number } | { days: number };

export interface CredentialPolicy {
  id: string;
  system: string;
  method: string;
  role: string;
  cadence: string;
  current?: Secret;
  /** The environment variables `current` was read from (`${ODOO_DB_PASSWORD}` → ODOO_DB_PASSWORD). */
  currentVariables?: string[];
  length?: number;
  /** Intent, read by `provision` and `audit`: what the role may do. */
  access?: 'readwrite' | 'readonly';
  /** A break-glass admin: no application may use it (checked by `audit`). */
  breakGlass: boolean;
  /** Schemas the role works in (default [public]). */
  schemas: string[];
  store: TargetSpec[];
  consumers: TargetSpec[];
  health: TargetSpec[];
  /** Method-specific keys, as written. */
  settings: Record<string, unknown>;
}

/** One `- kind: { ... }` entry of store, consumers or health; `path` names it in messages. */
export interface TargetSpec {
  kind: string;
  options: Record<string, unknown>;
  path: string;
}
