// Migration 001: models, versions, their files, aliases and the audit log.
import type { Kysely } from 'kysely';

// Migrations take Kysely<any> by design: they describe the schema as it was then, not the app's types.
/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('models')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(160)', (c) => c.notNull().unique())
    .addColumn('description', 'text')
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('model_versions')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('model_id', 'varchar(36)', (c) => c.notNull().references('models.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('format', 'varchar(16)', (c) => c.notNull())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('architecture', 'varchar(64)')
    .addColumn('parameter_count', 'bigint')
    .addColumn('context_length', 'integer')
    .addColumn('quantization', 'varchar(32)')
    .addColumn('manifest', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('source', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('description', 'text')
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_by', 'varchar(128)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addUniqueConstraint('model_versions_model_version_unique', ['model_id', 'version'])
    .execute();

  await db.schema
    .createTable('version_files')
    .addColumn('version_id', 'varchar(36)', (c) => c.notNull().references('model_versions.id').onDelete('cascade'))
    .addColumn('path', 'varchar(1024)', (c) => c.notNull())
    .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('version_files_pk', ['version_id', 'path'])
    .execute();
  await db.schema.createIndex('version_files_sha256_idx').on('version_files').column('sha256').execute();

  await db.schema
    .createTable('model_aliases')
    .addColumn('model_id', 'varchar(36)', (c) => c.notNull().references('models.id').onDelete('cascade'))
    .addColumn('alias', 'varchar(128)', (c) => c.notNull())
    .addColumn('version_id', 'varchar(36)', (c) => c.notNull().references('model_versions.id').onDelete('cascade'))
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('model_aliases_pk', ['model_id', 'alias'])
    .execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('at', 'varchar(32)', (c) => c.notNull())
    .addColumn('actor', 'varchar(128)', (c) => c.notNull())
    .addColumn('action', 'varchar(64)', (c) => c.notNull())
    .addColumn('target', 'varchar(256)', (c) => c.notNull())
    .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
    .addColumn('request_id', 'varchar(128)')
    .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema.createIndex('audit_events_at_idx').on('audit_events').columns(['at', 'id']).execute();
  await db.schema.createIndex('audit_events_target_idx').on('audit_events').column('target').execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (const table of ['audit_events', 'model_aliases', 'version_files', 'model_versions', 'models']) {
    await db.schema.dropTable(table).execute();
  }
}
