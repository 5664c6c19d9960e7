// Admission of a load against its tenant's load quotas, run under the runtime's load lock so concurrent loads see each other.
import { loadedUsageOf } from '../tenants/loaded-usage.ts';
import { assertLoadWithinQuotas } from '../tenants/load-quotas.ts';
import type { Quotas } from '../tenants/quotas.ts';
import { tenantOfName } from '../tenants/tenant-names.ts';
import type { Deployment } from './deployment.ts';
import type { DeploymentTable } from './deployment-table.ts';
import type { LoadNeeds } from './room-maker.ts';

export interface LoadAdmissionOptions {
  table: DeploymentTable;
  quotas: (tenant: string) => Promise<Quotas>;
}

export class LoadAdmission {
  constructor(private readonly o: LoadAdmissionOptions) {}

  /**
   * Throws 409 quota_exceeded when loading model `name` with `needs` would pass a quota of its tenant. `replacing`: the
   * deployment whose loaded model the load replaces (a live swap), so only the growth counts. Loads are serialised by
   * the lifecycle, so the use read here cannot change before the load is marked loading.
   */
  async assertAdmits(name: string, needs: LoadNeeds, replacing: Deployment | null): Promise<void> {
    const tenant = tenantOfName(name);
    const quotas = await this.o.quotas(tenant);
    if (quotas.loaded_models === undefined && quotas.ram_mb === undefined && quotas.vram_mb === undefined) return;
    const usage = loadedUsageOf(
      this.o.table.all().map((d) => d.snapshot()),
      tenant,
    );
    const demand = { ramBytes: needs.ram.bytes, vramBytes: needs.vram?.bytes ?? 0 };
    const replaced = replacing && { ramBytes: replacing.memoryBytes(), vramBytes: replacing.served?.memory.vramBytes ?? 0 };
    assertLoadWithinQuotas(tenant, quotas, usage, demand, replaced);
  }
}
