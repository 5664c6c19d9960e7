// Fair placement between tenants: whether a load puts its tenant over its share of a budget, and so may evict only its own models.
import { tenantOfName } from '../tenants/tenant-names.ts';

export interface ShareQuestion {
  /** The model being loaded (its qualified name says its tenant). */
  name: string;
  /** Bytes the load needs on this device. */
  neededBytes: number;
  /** The device's budget for loaded models. */
  budgetBytes: number;
  /** The tenant's own quota for this memory (ram_mb / vram_mb) in bytes, when one is set. */
  quotaBytes: number | null;
  /** What the tenant's other resident models hold against this quota (all GPUs for vram_mb). */
  quotaUseBytes: number;
  /** The models resident on this device now (the one being replaced excluded), with what each holds. */
  resident: ReadonlyArray<{ name: string; memoryBytes: number }>;
  /** Model slots (the RAM pool only): max_loaded_models (0: no limit), and the tenant's loaded_models quota when set. */
  slots?: { limit: number; quota: number | null };
}

/**
 * A tenant's share is its quota when it has one; else an equal split of the budget among the tenants holding models on
 * the device, itself included. The same goes for model slots (loaded_models, else max_loaded_models split). One tenant
 * alone (auth off, or a single tenant) has the whole budget, as before tenants.
 */
export function overShare(q: ShareQuestion): boolean {
  const tenant = tenantOfName(q.name);
  const tenants = new Set(q.resident.map((m) => tenantOfName(m.name)));
  tenants.add(tenant);
  const own = q.resident.filter((m) => tenantOfName(m.name) === tenant);
  const ownBytes = own.reduce((sum, m) => sum + m.memoryBytes, 0);
  const memoryOver =
    q.quotaBytes !== null ? q.quotaUseBytes + q.neededBytes > q.quotaBytes : ownBytes + q.neededBytes > q.budgetBytes / tenants.size;
  if (memoryOver || !q.slots) return memoryOver;
  const { limit, quota } = q.slots;
  if (quota !== null) return own.length + 1 > quota;
  return limit > 0 && own.length + 1 > limit / tenants.size;
}

/** The names of other tenants' models a load may not evict: all of them when the loading tenant is over its share, else none. */
export function reservedForOthers(q: ShareQuestion): Set<string> {
  if (!overShare(q)) return new Set();
  const tenant = tenantOfName(q.name);
  return new Set(q.resident.filter((m) => tenantOfName(m.name) !== tenant).map((m) => m.name));
}
