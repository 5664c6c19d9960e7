// Runs data-access tests on SQLite and on the real PostgreSQL server (skipped, with the reason, when none answers).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestContext } from 'node:test';

/** Server used for PostgreSQL tests; each test gets its own schema on it. */
export const TEST_POSTGRES_URL = process.env.HANGAR_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<string | null> | undefined;

/** null when PostgreSQL answers, else why not. */
export function postgresUnavailableReason(): Promise<string | null> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return null;
    } catch (error) {
      return `PostgreSQL not reachable at ${TEST_POSTGRES_URL}: ${(error as Error).message}`;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return reachable;
}

/** A DATABASE_URL for a fresh, empty schema, dropped after the test. */
export async function freshPostgresUrl(t: Pick<TestContext, 'after'>): Promise<string> {
  const schema = `hangar_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  t.after(async () => {
    const cleanup = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await cleanup.connect();
    await cleanup.query(`drop schema if exists ${schema} cascade`);
    await cleanup.end();
  });
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

export type DialectUnderTest = 'sqlite' | 'postgres';
export const DIALECTS: DialectUnderTest[] = ['sqlite', 'postgres'];

/**
 * The DATABASE_URL for a dialect: '' for SQLite; a fresh schema for PostgreSQL, or undefined after
 * marking the test skipped when no server answers.
 */
export async function databaseUrlFor(t: TestContext, dialect: DialectUnderTest): Promise<string | undefined> {
  if (dialect === 'sqlite') return '';
  const reason = await postgresUnavailableReason();
  if (reason) {
    t.skip(reason);
    return undefined;
  }
  return freshPostgresUrl(t);
}
