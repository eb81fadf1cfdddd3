// A dry run writes to no system (SPEC invariant 6): the whole platform's policy, every credential
// dry-run through the real engine, while every HTTP request any model receives is recorded.
import { describe, expect, it } from 'vitest';
import { check, expectNoLeak, fx, rotate, SECRET, server, TEXT, world, type Id } from '../helpers/platform.js';

/** The roles' passwords and settings as the server holds them (the rotation lock's uncommitted row must leave no trace). */
async function catalogs(): Promise<string> {
  const db = await fx().server.client();
  try {
    const roles = await db.query(
      "SELECT rolname, rolpassword, rolcanlogin FROM pg_authid WHERE rolname NOT LIKE 'pg\\_%' ORDER BY rolname",
    );
    const settings = await db.query('SELECT setdatabase, setrole, setconfig FROM pg_db_role_setting ORDER BY setdatabase, setrole');
    return JSON.stringify([roles.rows, settings.rows]);
  } finally {
    await db.end();
  }
}

describe('a dry run of the whole platform policy', () => {
  it("sends no request but GETs to any system, leaves n8n's credential untouched, and says which proofs it left out", async () => {
    const w = world();
    const sent: string[] = [];
    const record = ({ request }: { request: Request }) =>
      void sent.push(`${request.method} ${new URL(request.url).host}${new URL(request.url).pathname}`);
    server.events.on('request:start', record);
    const n8nBefore = w.n8n.updatedAt('sbBridge1');
    const catalogsBefore = await catalogs();
    const summaries: Partial<Record<Id, string>> = {};
    try {
      for (const id of ['doadmin', 'odoo_app', 'superset_ro', 'service_role', 'anon'] as Id[]) {
        const before = w.env[SECRET[id]];
        const result = await rotate(w, id, 'scheduled', TEXT, true);
        expect(result.status, `${id}: ${result.summary}`).toBe('skipped');
        summaries[id] = result.summary;
        expect(await check(id, before), `${id}: the value in use still works`).toBe('works');
      }
    } finally {
      server.events.removeListener('request:start', record);
    }
    expect(sent.length).toBeGreaterThan(0);
    expect(await catalogs(), 'no password or role setting changed on the Postgres server').toBe(catalogsBefore);
    expect(sent.filter((r) => !r.startsWith('GET '))).toEqual([]);
    // The no-op partial update would have moved it (n8n records every accepted PATCH).
    expect(w.n8n.updatedAt('sbBridge1')).toBe(n8nBefore);
    expect(summaries.service_role).toMatch(
      /not done in a dry run: n8n-credential https:\/\/n8n\.test sbBridge1: the no-op partial update is not sent in a dry run .*the API key, its read access, the credential id and the data's fields were checked/,
    );
    expect(summaries.superset_ro).toMatch(
      /not done in a dry run: superset-database https:\/\/superset\.test #1: not contacted in a dry run: every check needs a login, which Superset records/,
    );
    expect(summaries.doadmin).not.toMatch(/not done in a dry run/);
    expect(w.runtime.reporter.lines.join('\n')).toMatch(/the no-op partial update is not sent in a dry run/);
    expectNoLeak(w);
  });

  it('a real run still sends the no-op update in its preflight (n8n records it), before anything changes', async () => {
    const w = world();
    const before = w.n8n.updatedAt('sbBridge1');
    w.n8n.failNextPatch.push(500, 500, 500, 500, 500, 500);
    const result = await rotate(w, 'service_role');
    // The preflight's no-op PATCH was the first write n8n saw; the run failed there, before any change.
    expect(result.status).toBe('failed');
    expect(result.record.steps.find((s) => s.step === 'generate')!.outcome).toBe('skipped');
    expect(w.n8n.requests.some((r) => r.method === 'PATCH')).toBe(true);
    expect(w.n8n.updatedAt('sbBridge1')).toBe(before);
  });
});
