// Tenant rows and the usage the database knows (models, referenced bytes, running downloads); functions of a db or transaction.
import { SqliteAdapter, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import { parseQuotas, type Quotas } from './quotas.ts';

type Executor = Kysely<Database> | Transaction<Database>;

export interface TenantRecord {
  name: string;
  description: string | null;
  quotas: Quotas;
  created_at: string;
  updated_at: string;
}

export async function findTenant(db: Executor, name: string): Promise<TenantRecord | undefined> {
  const row = await db.selectFrom('tenants').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? { ...row, quotas: parseQuotas(row.quotas) } : undefined;
}

/**
 * Reads a tenant's row inside a transaction so that concurrent changes of the same tenant take turns: PostgreSQL
 * locks the row (FOR UPDATE); SQLite runs one write transaction at a time already.
 */
export async function lockTenant(trx: Transaction<Database>, name: string): Promise<TenantRecord | undefined> {
  const sqlite = trx.getExecutor().adapter instanceof SqliteAdapter;
  let query = trx.selectFrom('tenants').selectAll().where('name', '=', name);
  if (!sqlite) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row ? { ...row, quotas: parseQuotas(row.quotas) } : undefined;
}

export async function countTenantModels(db: Executor, tenant: string): Promise<number> {
  const row = await db
    .selectFrom('models')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('tenant', '=', tenant)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Bytes of the distinct blobs a tenant's versions reference: a blob two of its versions share counts once. */
export async function tenantStoredBytes(db: Executor, tenant: string): Promise<number> {
  const row = await db
    .selectFrom((eb) =>
      eb
        .selectFrom('version_files')
        .innerJoin('model_versions', 'model_versions.id', 'version_files.version_id')
        .innerJoin('models', 'models.id', 'model_versions.model_id')
        .where('models.tenant', '=', tenant)
        .select(['version_files.sha256', (e) => e.fn.max('version_files.size_bytes').as('size_bytes')])
        .groupBy('version_files.sha256')
        .as('blobs'),
    )
    .select((eb) => eb.fn.sum<number>('blobs.size_bytes').as('bytes'))
    .executeTakeFirst();
  return Number(row?.bytes ?? 0);
}

/** Of the given blobs, the bytes the tenant does not reference yet (what a new version adds to its stored_bytes). */
export async function newBytesForTenant(
  db: Executor,
  tenant: string,
  files: Array<{ sha256: string; size_bytes: number }>,
): Promise<number> {
  const distinct = new Map(files.map((f) => [f.sha256, f.size_bytes]));
  if (distinct.size === 0) return 0;
  const held = await db
    .selectFrom('version_files')
    .innerJoin('model_versions', 'model_versions.id', 'version_files.version_id')
    .innerJoin('models', 'models.id', 'model_versions.model_id')
    .where('models.tenant', '=', tenant)
    .where('version_files.sha256', 'in', [...distinct.keys()])
    .select('version_files.sha256')
    .distinct()
    .execute();
  for (const { sha256 } of held) distinct.delete(sha256);
  return [...distinct.values()].reduce((sum, bytes) => sum + bytes, 0);
}

/** Download jobs of the tenant that are queued or running (paused ones hold no connection). */
export async function countActiveDownloads(db: Executor, tenant: string): Promise<number> {
  const row = await db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('tenant', '=', tenant)
    .where('kind', '=', 'download')
    .where('status', 'in', ['queued', 'running'])
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Jobs of any kind the tenant has queued, running or paused. */
export async function countActiveJobs(db: Executor, tenant: string): Promise<number> {
  const row = await db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('tenant', '=', tenant)
    .where('status', 'in', ['queued', 'running', 'paused'])
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
