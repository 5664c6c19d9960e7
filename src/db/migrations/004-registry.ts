// Migration 004: registry metadata on versions (metrics, parameters, features, training) and the deployment history.
import type { Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  for (const [column, fallback] of [
    ['metrics', '{}'],
    ['parameters', '{}'],
    ['feature_names', '[]'],
    ['training', '{}'],
  ] as const) {
    await db.schema
      .alterTable('model_versions')
      .addColumn(column, 'text', (c) => c.notNull().defaultTo(fallback))
      .execute();
  }
  await db.schema
    .createTable('deployment_events')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('model_id', 'varchar(36)', (c) => c.notNull().references('models.id').onDelete('cascade'))
    // Numbered per model inside the promoting transaction; the unique key makes the sequence gap- and fork-free.
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('action', 'varchar(16)', (c) => c.notNull())
    .addColumn('from_version', 'integer')
    .addColumn('to_version', 'integer')
    .addColumn('actor', 'varchar(128)', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('request_id', 'varchar(128)')
    .addColumn('at', 'varchar(32)', (c) => c.notNull())
    .addUniqueConstraint('deployment_events_model_seq_unique', ['model_id', 'seq'])
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('deployment_events').execute();
  for (const column of ['metrics', 'parameters', 'feature_names', 'training'])
    await db.schema.alterTable('model_versions').dropColumn(column).execute();
}
