// Migration 007: tenants with quotas; models, keys, jobs, webhooks and audit events owned by a tenant; key rotation.
import { sql, type Kysely } from 'kysely';

// Migrations take Kysely<any> by design: they describe the schema as it was then, not the app's types.
/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyDb = Kysely<any>;

/** Everything that existed before tenants belongs to this one (auth off keeps using it alone). */
const DEFAULT_TENANT = 'default';

/** Tables whose rows a tenant owns; existing rows move to the default tenant. */
const OWNED_TABLES = ['models', 'jobs', 'webhooks', 'audit_events'] as const;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('tenants')
    .addColumn('name', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('description', 'text')
    // {"models": 5, "ram_mb": 4096, …}: a missing quota is unlimited (JSON).
    .addColumn('quotas', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  const now = new Date().toISOString();
  await db
    .insertInto('tenants')
    .values({ name: DEFAULT_TENANT, description: 'Everything created without a tenant', quotas: '{}', created_at: now, updated_at: now })
    .execute();

  for (const table of OWNED_TABLES) {
    await db.schema
      .alterTable(table)
      .addColumn('tenant', 'varchar(32)', (c) => c.notNull().defaultTo(DEFAULT_TENANT))
      .execute();
    await db.schema.createIndex(`${table}_tenant_idx`).on(table).column('tenant').execute();
  }
  // A key without a tenant is a system key (every key made before tenants existed is one).
  await db.schema.alterTable('api_keys').addColumn('tenant', 'varchar(32)').execute();
  // Rotation: the secret before the newest stays valid until previous_valid_until.
  await db.schema.alterTable('api_keys').addColumn('previous_salt', 'varchar(64)').execute();
  await db.schema.alterTable('api_keys').addColumn('previous_hash', 'varchar(128)').execute();
  await db.schema.alterTable('api_keys').addColumn('previous_valid_until', 'varchar(32)').execute();
  await db.schema.alterTable('api_keys').addColumn('rotated_at', 'varchar(32)').execute();
  await sql`UPDATE api_keys SET tenant = NULL`.execute(db);
  // Webhooks made before tenants received every event: they stay system webhooks ('*', src/events/webhook-store.ts).
  await sql`UPDATE webhooks SET tenant = '*'`.execute(db);
}

export async function down(db: AnyDb): Promise<void> {
  for (const column of ['rotated_at', 'previous_valid_until', 'previous_hash', 'previous_salt', 'tenant']) {
    await db.schema.alterTable('api_keys').dropColumn(column).execute();
  }
  for (const table of OWNED_TABLES) {
    await db.schema.dropIndex(`${table}_tenant_idx`).execute();
    await db.schema.alterTable(table).dropColumn('tenant').execute();
  }
  await db.schema.dropTable('tenants').execute();
}
