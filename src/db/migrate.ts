// Applies the versioned migration set at start-up; a static provider so bundling never misses a file.
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as m001 from './migrations/001-initial.ts';
import * as m002 from './migrations/002-runtime-measurements.ts';
import * as m003 from './migrations/003-api-keys.ts';
import * as m004 from './migrations/004-registry.ts';
import * as m005 from './migrations/005-webhooks.ts';
import * as m006 from './migrations/006-hub.ts';
import * as m007 from './migrations/007-tenants.ts';
import type { Database } from './schema.ts';

const MIGRATIONS: Record<string, Migration> = {
  '001-initial': m001,
  '002-runtime-measurements': m002,
  '003-api-keys': m003,
  '004-registry': m004,
  '005-webhooks': m005,
  '006-hub': m006,
  '007-tenants': m007,
};

class StaticMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

/** Brings the database to the newest schema; returns the names of the migrations applied now. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider() });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Database migration ${failed} failed: ${(error as Error).message}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Brings the database to a named migration (tests of a migration start from the schema before it). */
export async function migrateToVersion(db: Kysely<Database>, name: string): Promise<void> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider() });
  const { error } = await migrator.migrateTo(name);
  if (error) throw new Error(`Database migration to ${name} failed: ${(error as Error).message}`);
}

/** The newest migration name this build knows; reported by health and the config API. */
export const LATEST_SCHEMA_VERSION = Object.keys(MIGRATIONS).sort().at(-1) ?? 'none';
