// Load quotas (loaded_models, ram_mb, vram_mb): the check a load makes, before anything is evicted or started, against its tenant's use.
import { roundedMib } from '../mebibytes.ts';
import { assertWithinQuota, type Quotas } from './quotas.ts';
import type { LoadedUsage } from './loaded-usage.ts';

/** What a load will hold: the estimate (or last measurement) of its RAM, and of its VRAM when it goes to a GPU. */
export interface LoadDemand {
  ramBytes: number;
  vramBytes: number;
}

/**
 * Throws 409 quota_exceeded naming the first quota the load would pass. A load that replaces a loaded model of the
 * tenant (a live swap to another version) adds no model and only the growth in memory, so `replacing` is what the
 * replaced one holds now.
 */
export function assertLoadWithinQuotas(
  tenant: string,
  quotas: Quotas,
  usage: LoadedUsage,
  demand: LoadDemand,
  replacing: LoadDemand | null = null,
): void {
  if (replacing === null) assertWithinQuota(tenant, quotas, 'loaded_models', usage.loaded_models, 1);
  assertWithinQuota(tenant, quotas, 'ram_mb', usage.ram_mb, roundedMib(demand.ramBytes - (replacing?.ramBytes ?? 0)));
  assertWithinQuota(tenant, quotas, 'vram_mb', usage.vram_mb, roundedMib(demand.vramBytes - (replacing?.vramBytes ?? 0)));
}
