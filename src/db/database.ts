// Opens the database: SQLite (better-sqlite3) in the data directory by default, PostgreSQL for postgres:// URLs.
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { createRequire } from 'node:module';
import type pgModule from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type { Database } from './schema.ts';
import { redactUrl } from '../config/redact.ts';

/** pg is loaded only when a PostgreSQL URL is configured (it is CommonJS, so synchronously). */
const requirePg = (): typeof pgModule => createRequire(import.meta.url)('pg') as typeof pgModule;

export type DialectName = 'sqlite' | 'postgres';

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: DialectName;
  /** Where the data lives, with any password removed. */
  location: string;
}

export interface OpenDatabaseOptions {
  /** Empty for SQLite in `dataDir`; `postgres://` or `postgresql://` for PostgreSQL. */
  databaseUrl: string;
  dataDir: string;
}

const INT8_OID = 20;

/** Row counts and sizes are bigint columns; our values stay far below 2^53, so numbers are safe. */
function pgTypes(pg: typeof pgModule) {
  return {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === INT8_OID) return (value: string) => Number(value);
      return pg.types.getTypeParser(oid, format);
    },
  };
}

function redactDatabaseUrl(url: string): string {
  return redactUrl(url, 'postgres (unparseable URL)');
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

export function openDatabase(options: OpenDatabaseOptions): OpenedDatabase {
  if (options.databaseUrl && isPostgresUrl(options.databaseUrl)) {
    const pg = requirePg();
    const pool = new pg.Pool({ connectionString: options.databaseUrl, types: pgTypes(pg), max: 10 });
    // An idle client losing its connection must not crash the server; the next query reports it.
    pool.on('error', () => undefined);
    return {
      db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
      dialect: 'postgres',
      location: redactDatabaseUrl(options.databaseUrl),
    };
  }
  if (options.databaseUrl) {
    throw new Error(`DATABASE_URL must be empty (SQLite) or a postgres:// URL, got "${redactDatabaseUrl(options.databaseUrl)}"`);
  }
  fs.mkdirSync(options.dataDir, { recursive: true });
  const file = path.join(options.dataDir, 'hangar.db');
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  // In WAL mode NORMAL never corrupts the database; a power cut may lose the last commits, not break it.
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database }) }), dialect: 'sqlite', location: file };
}

/** A cheap round trip, for health checks. */
export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}
