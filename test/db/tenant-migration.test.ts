// Migration 007 on a database made before tenants: every model, job and audit event lands in `default`; keys and webhooks become system ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openDatabase } from '../../src/db/database.ts';
import { migrateToLatest, migrateToVersion } from '../../src/db/migrate.ts';
import { DIALECTS, databaseUrlFor } from '../helpers/databases.ts';
import { tempDir } from '../helpers/temp.ts';

for (const dialect of DIALECTS) {
  test(`migration 007 moves existing data into the default tenant (${dialect})`, async (t) => {
    const databaseUrl = await databaseUrlFor(t, dialect);
    if (dialect === 'postgres' && !databaseUrl) return;
    const dir = await tempDir(t);
    const database = openDatabase({ databaseUrl: databaseUrl ?? '', dataDir: dir });
    t.after(() => database.db.destroy());
    await migrateToVersion(database.db, '006-hub');
    const now = new Date().toISOString();
    const db = database.db;
    await sql`INSERT INTO models (id, name, description, tags, created_at, updated_at) VALUES ('m1', 'tinyllama', NULL, '[]', ${now}, ${now})`.execute(
      db,
    );
    await sql`INSERT INTO api_keys (id, name, role, salt, hash, created_at, created_by) VALUES ('k1', 'ops', 'admin', 's', 'h', ${now}, 'cli')`.execute(
      db,
    );
    await sql`INSERT INTO jobs (id, kind, status, dedupe_key, request, created_by, created_at, updated_at) VALUES ('j1', 'download', 'completed', 'k', '{}', 'a', ${now}, ${now})`.execute(
      db,
    );
    await sql`INSERT INTO webhooks (id, url, secret, events, created_at, created_by) VALUES ('w1', 'http://127.0.0.1:9', 'secret-secret-secret', '["*"]', ${now}, 'a')`.execute(
      db,
    );
    await sql`INSERT INTO audit_events (id, at, actor, action, target, outcome, details) VALUES ('a1', ${now}, 'a', 'model.import', 'tinyllama:1', 'success', '{}')`.execute(
      db,
    );

    assert.deepEqual(await migrateToLatest(db), ['007-tenants']);
    const webhook = await sql<{ tenant: string }>`SELECT tenant FROM webhooks`.execute(db);
    assert.equal(webhook.rows[0]?.tenant, '*', 'webhooks from before tenants stay system webhooks');
    for (const table of ['models', 'jobs', 'audit_events']) {
      const rows = await sql<{ tenant: string }>`SELECT tenant FROM ${sql.table(table)}`.execute(db);
      assert.deepEqual(
        rows.rows.map((r) => r.tenant),
        ['default'],
        table,
      );
    }
    const key = await db.selectFrom('api_keys').selectAll().executeTakeFirstOrThrow();
    assert.equal(key.tenant, null);
    const tenants = await db.selectFrom('tenants').selectAll().execute();
    assert.deepEqual(
      tenants.map((x) => [x.name, x.quotas]),
      [['default', '{}']],
    );
    // The model keeps its plain name: auth off (the default tenant alone) behaves as before.
    assert.equal((await db.selectFrom('models').select('name').executeTakeFirstOrThrow()).name, 'tinyllama');
  });
}
