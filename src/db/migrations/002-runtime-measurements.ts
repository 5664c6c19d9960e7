// Migration 002: memory and load time measured when a version was last loaded, used instead of estimates.
import type { Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('runtime_measurements')
    .addColumn('version_id', 'varchar(36)', (c) => c.notNull().references('model_versions.id').onDelete('cascade'))
    .addColumn('device', 'varchar(16)', (c) => c.notNull())
    .addColumn('backend', 'varchar(16)', (c) => c.notNull())
    .addColumn('peak_rss_bytes', 'bigint', (c) => c.notNull())
    .addColumn('vram_bytes', 'bigint')
    .addColumn('load_ms', 'integer', (c) => c.notNull())
    .addColumn('measured_at', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('runtime_measurements_pk', ['version_id', 'device'])
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('runtime_measurements').execute();
}
