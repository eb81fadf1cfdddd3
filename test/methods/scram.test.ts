import { describe, expect, it } from 'vitest';
import { scramVerifier } from '../../src/postgres/scram.js';
import { Secret } from '../../src/secret/secret.js';
import { usePostgres } from '../helpers/postgres.js';

const fx = usePostgres();

describe('the SCRAM-SHA-256 verifier computed on the client', () => {
  it('is byte for byte what PostgreSQL computes for the same password and salt', async () => {
    const db = await fx().server.client();
    try {
      await db.query("SET password_encryption = 'scram-sha-256'");
      await db.query("CREATE ROLE scram_probe LOGIN PASSWORD 'correct horse battery staple'");
      const { rows } = await db.query<{ v: string }>("SELECT rolpassword AS v FROM pg_authid WHERE rolname = 'scram_probe'");
      const server = rows[0].v;
      const [, iterSalt] = server.split('$');
      const [iterations, salt] = iterSalt.split(':');
      expect(scramVerifier(new Secret('correct horse battery staple'), Number(iterations), Buffer.from(salt, 'base64'))).toBe(server);
    } finally {
      await db.end();
    }
  });

  it('uses a fresh 16-byte salt each time and refuses non-ASCII passwords', () => {
    const a = scramVerifier(new Secret('same-password'));
    const b = scramVerifier(new Secret('same-password'));
    expect(a).not.toBe(b);
    expect(Buffer.from(a.split('$')[1].split(':')[1], 'base64')).toHaveLength(16);
    expect(() => scramVerifier(new Secret('pässword'))).toThrow(/printable ASCII/);
  });
});
