// Tenant quotas: their names and units, the error a breach raises, and the check every enforcement point shares.
import { Conflict } from '../errors.ts';

/** Every quota a tenant can have; a missing one is unlimited. */
export const QUOTA_NAMES = [
  'models',
  'stored_bytes',
  'loaded_models',
  'ram_mb',
  'vram_mb',
  'requests_per_minute',
  'inference_per_minute',
  'concurrent_downloads',
] as const;
export type QuotaName = (typeof QUOTA_NAMES)[number];
export type Quotas = Partial<Record<QuotaName, number>>;

/** Parses a tenant row's quotas column, keeping only known, whole, non-negative limits. */
export function parseQuotas(json: string): Quotas {
  const raw = JSON.parse(json) as Record<string, unknown>;
  const quotas: Quotas = {};
  for (const name of QUOTA_NAMES) {
    const limit = raw[name];
    if (typeof limit === 'number' && Number.isInteger(limit) && limit >= 0) quotas[name] = limit;
  }
  return quotas;
}

/** 409 quota_exceeded: which quota, its limit, what the tenant uses now and what the change asked for. */
export function quotaExceeded(tenant: string, quota: QuotaName, limit: number, current: number, requested: number): Conflict {
  return new Conflict(
    `Tenant "${tenant}" would exceed its ${quota} quota: limit ${limit}, in use ${current}, this needs ${requested} more`,
    { tenant, quota, limit, current, requested },
    'quota_exceeded',
  );
}

/** Throws quota_exceeded when `current + requested` passes the tenant's limit (no limit: never). */
export function assertWithinQuota(tenant: string, quotas: Quotas, quota: QuotaName, current: number, requested: number): void {
  const limit = quotas[quota];
  if (limit === undefined || requested <= 0) return;
  if (current + requested > limit) throw quotaExceeded(tenant, quota, limit, current, requested);
}
