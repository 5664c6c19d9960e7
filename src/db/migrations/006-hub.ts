// Migration 006: persistent background jobs (hub downloads, repairs) and each version's last integrity check.
import type { Kysely } from 'kysely';

// Migrations take Kysely<any> by design: they describe the schema as it was then, not the app's types.
/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    // download | repair
    .addColumn('kind', 'varchar(32)', (c) => c.notNull())
    // queued | running | paused | completed | failed | cancelled
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    // Identity of the work (repo, revision, variant, files) so an identical request joins the same job.
    .addColumn('dedupe_key', 'text', (c) => c.notNull())
    // The request as accepted (JSON).
    .addColumn('request', 'text', (c) => c.notNull())
    // Files with bytes done/total, written as parts complete (JSON).
    .addColumn('progress', 'text', (c) => c.notNull().defaultTo('{}'))
    // What the job produced, e.g. the model version (JSON).
    .addColumn('result', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('error', 'text')
    .addColumn('created_by', 'varchar(128)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('started_at', 'varchar(32)')
    .addColumn('finished_at', 'varchar(32)')
    .execute();
  await db.schema.createIndex('jobs_status_idx').on('jobs').columns(['status', 'created_at']).execute();
  await db.schema.createIndex('jobs_created_idx').on('jobs').columns(['created_at']).execute();

  await db.schema
    .createTable('version_integrity')
    .addColumn('version_id', 'varchar(36)', (c) => c.primaryKey().references('model_versions.id').onDelete('cascade'))
    // 1 valid, 0 invalid (integer: one column type both dialects read back the same way).
    .addColumn('valid', 'integer', (c) => c.notNull())
    // The full validation report (JSON), reasons included.
    .addColumn('report', 'text', (c) => c.notNull())
    .addColumn('checked_at', 'varchar(32)', (c) => c.notNull())
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('version_integrity').execute();
  await db.schema.dropTable('jobs').execute();
}
