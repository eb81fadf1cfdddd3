import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { PolicyError } from '../../src/policy/errors.js';
import type { PostgresSystem } from '../../src/policy/types.js';
import { linkedCluster } from '../../src/digitalocean/linked-cluster.js';
import { testRuntime } from '../helpers/runtime.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const ENV = {
  ROTATION_ADMIN_URL: 'postgresql://doadmin:adminpw@db:25060/defaultdb?sslmode=verify-full',
  DB_CA_CERT: PEM,
  DIGITALOCEAN_TOKEN: 'dop_v1_x',
};
const policy = (system: string, extraSystems = '') => `version: 1
systems:
  odoo-sor:
    type: postgres
    admin_url: \${ROTATION_ADMIN_URL}
${system}${extraSystems}credentials:
  odoo_app:
    system: odoo-sor
    method: alter-role
    cadence: quarterly
    store:
      - file: { path: .secrets/odoo.env, key: ODOO_DB_PASSWORD }
`;
const DO = `  odoo-do:
    type: digitalocean
    cluster_id: 9cc10173-e9ea-4176-9dbc-a4cee4c4ff30
    token: \${DIGITALOCEAN_TOKEN}
`;
function problems(text: string): string {
  try {
    parsePolicy(text, 'rotation.yaml', ENV);
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return (error as Error).message;
  }
  throw new Error('expected the policy to be refused');
}

describe('a postgres system names the CA its server is checked against', () => {
  it('ca: a PEM certificate, usually from a variable', () => {
    const system = parsePolicy(policy('    ca: ${DB_CA_CERT}\n'), 'rotation.yaml', ENV).systems['odoo-sor'] as PostgresSystem;
    expect(system.ca).toBe(PEM);
    expect(problems(policy('    ca: not a certificate\n'))).toMatch(/systems\.odoo-sor\.ca: expected a PEM certificate/);
  });

  it('ca_from: a digitalocean system of the same cluster, whose API serves the CA', () => {
    const system = parsePolicy(policy('    ca_from: odoo-do\n', DO), 'rotation.yaml', ENV).systems['odoo-sor'] as PostgresSystem;
    expect(system.caFrom).toBe('odoo-do');
    expect(problems(policy('    ca_from: odoo-sor\n', DO))).toMatch(
      /systems\.odoo-sor\.ca_from: expected the id of a type: digitalocean system \(odoo-do\), got 'odoo-sor'/,
    );
    expect(problems(policy('    ca_from: nowhere\n'))).toMatch(
      /systems\.odoo-sor\.ca_from: expected the id of a type: digitalocean system, got 'nowhere'/,
    );
    expect(problems(policy('    ca: ${DB_CA_CERT}\n    ca_from: odoo-do\n', DO))).toMatch(
      /systems\.odoo-sor: give ca or ca_from, not both/,
    );
  });

  it("an admin URL's TLS parameters are judged at load, before anything runs", () => {
    const withUrl = (url: string, system = '') => {
      try {
        parsePolicy(policy(system, DO), 'rotation.yaml', { ...ENV, ROTATION_ADMIN_URL: url });
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(withUrl('postgresql://doadmin:adminpw@db:25060/defaultdb?sslmode=verify')).toMatch(
      /systems\.odoo-sor\.admin_url: sslmode=verify in the connection URL of db is not one of/,
    );
    expect(withUrl('postgresql://doadmin:adminpw@db:25060/defaultdb?sslmode=verify-ca')).toMatch(
      /systems\.odoo-sor\.admin_url: sslmode=verify-ca for db needs the CA/,
    );
    expect(withUrl('postgresql://doadmin:adminpw@db:25060/defaultdb?sslmode=verify-ca', '    ca_from: odoo-do\n')).toBe('');
    expect(withUrl('postgresql://doadmin:adminpw@db:25060/defaultdb?sslmode=require&sslrootcert=system')).toMatch(
      /sslrootcert=system needs sslmode=verify-full/,
    );
    expect(withUrl('postgresql://doadmin:adminpw@db:25060/defaultdb?sslmode=require')).toBe('');
    expect(withUrl('postgresql://doadmin:adminpw@db:25060/defaultdb?sslmode=verify')).not.toContain('adminpw');
  });

  it('a digitalocean system takes every libpq sslmode, and nothing else', () => {
    const text = (mode: string) => `version: 1
systems:
${DO}    sslmode: ${mode}
credentials:
  doadmin:
    system: odoo-do
    method: digitalocean-reset
    cadence: annually
    store:
      - file: { path: .secrets/do.env, key: DOADMIN_PASSWORD }
`;
    for (const mode of ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'])
      expect(() => parsePolicy(text(mode), 'rotation.yaml', ENV)).not.toThrow();
    expect(problems(text('verify'))).toMatch(/sslmode: expected disable \| allow \| prefer \| require \| verify-ca \| verify-full/);
  });
});

describe('cluster: links a postgres system to its DigitalOcean cluster (pools and managed users at preflight)', () => {
  const OTHER = DO.replace('odoo-do', 'other-do').replace('9cc10173-e9ea-4176-9dbc-a4cee4c4ff30', '0b5a1f3e-5c2d-4b7a-9d1e-3f2a1b0c9d8e');
  const clusterOf = (system: string) => {
    const p = parsePolicy(policy(system, DO + OTHER), 'rotation.yaml', ENV);
    return linkedCluster({ policy: p, system: p.systems['odoo-sor'], runtime: testRuntime() })?.clusterId;
  };

  it('names a digitalocean system; ca_from links the same cluster; without either there is none', () => {
    const system = parsePolicy(policy('    cluster: odoo-do\n', DO), 'rotation.yaml', ENV).systems['odoo-sor'] as PostgresSystem;
    expect(system.cluster).toBe('odoo-do');
    expect(clusterOf('    cluster: odoo-do\n')).toBe('9cc10173-e9ea-4176-9dbc-a4cee4c4ff30');
    expect(clusterOf('    ca_from: other-do\n')).toBe('0b5a1f3e-5c2d-4b7a-9d1e-3f2a1b0c9d8e');
    expect(clusterOf('')).toBeUndefined();
  });

  it('a link that names no digitalocean system, or two different clusters, is refused at load', () => {
    expect(problems(policy('    cluster: odoo-sor\n', DO + OTHER))).toMatch(
      /systems\.odoo-sor\.cluster: expected the id of a type: digitalocean system \(odoo-do, other-do\), got 'odoo-sor'/,
    );
    expect(problems(policy('    cluster: odoo-do\n    ca_from: other-do\n', DO + OTHER))).toMatch(
      /systems\.odoo-sor: cluster 'odoo-do' and ca_from 'other-do' name different DigitalOcean systems \(one server is one cluster\)/,
    );
  });
});
