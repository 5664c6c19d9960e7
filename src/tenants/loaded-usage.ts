// What a tenant's loaded models hold now, summed from the runtime's deployment snapshots.
import { roundedMib } from '../mebibytes.ts';
import { tenantOfName } from './tenant-names.ts';

/** What a tenant's loaded models hold now, from the runtime (the database does not know). */
export interface LoadedUsage {
  loaded_models: number;
  ram_mb: number;
  vram_mb: number;
}

/** The facts of a deployment snapshot (src/runtime/deployment.ts) this sum reads. */
export interface DeploymentFacts {
  readonly name: string;
  readonly state: string;
  readonly rssBytes: number;
  readonly vramBytes: number | null;
}

/** Loading and loaded deployments count: a load in progress already holds (or is about to hold) its memory. */
export function loadedUsageOf(snapshots: readonly DeploymentFacts[], tenant: string): LoadedUsage {
  let loaded = 0;
  let rssBytes = 0;
  let vramBytes = 0;
  for (const snapshot of snapshots) {
    if (tenantOfName(snapshot.name) !== tenant) continue;
    if (snapshot.state !== 'loaded' && snapshot.state !== 'loading') continue;
    loaded += 1;
    rssBytes += snapshot.rssBytes;
    vramBytes += snapshot.vramBytes ?? 0;
  }
  return { loaded_models: loaded, ram_mb: roundedMib(rssBytes), vram_mb: roundedMib(vramBytes) };
}
