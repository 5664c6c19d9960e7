// Tenants: create, list, change and delete them (system administrators), with each tenant's quotas and current use.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { Conflict, HangarError } from '../errors.ts';
import { recordAuditEvent, type ActionContext } from '../registry/audit.ts';
import { isUniqueViolation } from '../db/sql-helpers.ts';
import { DEFAULT_TENANT, parseTenantName, TENANT_MARK, tenantNotFound } from '../tenants/tenant-names.ts';
import { QUOTA_NAMES, type Quotas } from '../tenants/quotas.ts';
import {
  countActiveDownloads,
  countActiveJobs,
  countTenantModels,
  findTenant,
  tenantStoredBytes,
  type TenantRecord,
} from '../tenants/tenant-store.ts';

import type { LoadedUsage } from '../tenants/loaded-usage.ts';

export interface TenantUsage extends LoadedUsage {
  models: number;
  stored_bytes: number;
  concurrent_downloads: number;
}

export interface TenantInfo extends TenantRecord {
  usage: TenantUsage;
}

export interface TenantInput {
  name: string;
  description?: string;
  quotas?: Quotas;
}

/** A change: `null` for a quota removes it (unlimited again). */
export interface TenantChange {
  description?: string | null;
  quotas?: Partial<Record<keyof Quotas, number | null>>;
}

export class TenantService {
  /** Quotas by tenant, read on every request by the rate limiter: refreshed on each change here. */
  private readonly quotaCache = new Map<string, Quotas>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly loadedUsage: (tenant: string) => LoadedUsage,
  ) {}

  async create(input: TenantInput, context: ActionContext): Promise<TenantInfo> {
    const name = parseTenantName(input.name);
    const now = new Date().toISOString();
    const quotas = cleanQuotas(input.quotas ?? {});
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('tenants')
          .values({ name, description: input.description ?? null, quotas: JSON.stringify(quotas), created_at: now, updated_at: now })
          .execute();
        await recordAuditEvent(trx, context, {
          action: 'tenant.create',
          target: name,
          outcome: 'success',
          details: { quotas },
          tenant: name,
        });
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new Conflict(`A tenant named "${name}" exists`, { name }, 'tenant_exists');
      throw error;
    }
    this.quotaCache.set(name, quotas);
    return this.get(name);
  }

  async list(): Promise<TenantInfo[]> {
    const rows = await this.db.selectFrom('tenants').select('name').orderBy('name').execute();
    return Promise.all(rows.map((row) => this.get(row.name)));
  }

  async get(name: string): Promise<TenantInfo> {
    const tenant = await findTenant(this.db, name);
    if (!tenant) throw tenantNotFound(name);
    return { ...tenant, usage: await this.usage(name) };
  }

  async update(name: string, change: TenantChange, context: ActionContext): Promise<TenantInfo> {
    await this.db.transaction().execute(async (trx) => {
      const tenant = await findTenant(trx, name);
      if (!tenant) throw tenantNotFound(name);
      const quotas: Record<string, number> = { ...tenant.quotas };
      for (const [quota, limit] of Object.entries(change.quotas ?? {})) {
        if (limit === null) delete quotas[quota];
        else quotas[quota] = limit as number;
      }
      const description = change.description === undefined ? tenant.description : change.description;
      await trx
        .updateTable('tenants')
        .set({ description, quotas: JSON.stringify(cleanQuotas(quotas)), updated_at: new Date().toISOString() })
        .where('name', '=', name)
        .execute();
      await recordAuditEvent(trx, context, {
        action: 'tenant.update',
        target: name,
        outcome: 'success',
        details: { ...change },
        tenant: name,
      });
    });
    this.quotaCache.delete(name);
    return this.get(name);
  }

  /** Deletes an empty tenant (no models, active keys or webhooks left); the default tenant stays. */
  async delete(name: string, context: ActionContext): Promise<{ deleted: string }> {
    if (name === DEFAULT_TENANT) throw new HangarError('conflict', 'The default tenant cannot be deleted', { name });
    await this.db.transaction().execute(async (trx) => {
      if (!(await findTenant(trx, name))) throw tenantNotFound(name);
      const models = await countTenantModels(trx, name);
      const keys = await trx.selectFrom('api_keys').select('id').where('tenant', '=', name).where('revoked_at', 'is', null).execute();
      // The webhooks table is typed by the events module; a count needs no more than SQL.
      const webhookRows = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM webhooks WHERE tenant = ${name}`.execute(trx);
      const webhooks = { length: Number(webhookRows.rows[0]?.n ?? 0) };
      if (models + keys.length + webhooks.length > 0) {
        throw new Conflict(
          `Tenant "${name}" still owns ${models} model(s), ${keys.length} active key(s) and ${webhooks.length} webhook(s); remove them first`,
          { name, models, keys: keys.length, webhooks: webhooks.length },
          'tenant_not_empty',
        );
      }
      const activeJobs = await countActiveJobs(trx, name);
      if (activeJobs > 0) {
        throw new Conflict(
          `Tenant "${name}" still has ${activeJobs} active job(s); cancel them first`,
          { name, jobs: activeJobs },
          'tenant_not_empty',
        );
      }
      // Revoked keys go with the tenant: nothing could ever authenticate as it again.
      await trx.deleteFrom('api_keys').where('tenant', '=', name).execute();
      // Its history stays for system keys, under a name no tenant can have, so a new tenant of this name starts empty.
      const retired = `${TENANT_MARK}${name}`;
      await trx.updateTable('jobs').set({ tenant: retired }).where('tenant', '=', name).execute();
      await trx.updateTable('audit_events').set({ tenant: retired }).where('tenant', '=', name).execute();
      await trx.deleteFrom('tenants').where('name', '=', name).execute();
      await recordAuditEvent(trx, context, { action: 'tenant.delete', target: name, outcome: 'success', tenant: retired });
    });
    this.quotaCache.delete(name);
    return { deleted: name };
  }

  /** A tenant's quotas, from memory after the first read (the rate limiter asks on every request). */
  async quotasOf(name: string): Promise<Quotas> {
    const cached = this.quotaCache.get(name);
    if (cached) return cached;
    const quotas = (await findTenant(this.db, name))?.quotas ?? {};
    this.quotaCache.set(name, quotas);
    return quotas;
  }

  async usage(name: string): Promise<TenantUsage> {
    const [models, stored_bytes, concurrent_downloads] = await Promise.all([
      countTenantModels(this.db, name),
      tenantStoredBytes(this.db, name),
      countActiveDownloads(this.db, name),
    ]);
    return { models, stored_bytes, concurrent_downloads, ...this.loadedUsage(name) };
  }
}

function cleanQuotas(quotas: Record<string, number | undefined>): Quotas {
  const clean: Quotas = {};
  for (const name of QUOTA_NAMES) {
    const limit = quotas[name];
    if (limit !== undefined) clean[name] = limit;
  }
  return clean;
}
