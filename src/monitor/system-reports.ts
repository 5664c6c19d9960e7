// Reports built from the runtime and the monitors: GPU status (seed 000), resources (seed 003), summary and optimization status (seed 002).
import type { ModelRuntime } from '../runtime/model-runtime.ts';
import type { ModelCatalog } from '../registry/catalog.ts';
import type { Settings } from '../config/settings.ts';
import type { GpuQuery } from './nvidia-smi.ts';
import { readCpuSeconds, readRssBytes } from './process-memory.ts';
import { parseKeepAlive, formatKeepAlive } from '../runtime/keep-alive.ts';
import { gpuBudgetBytes } from '../runtime/placement.ts';
import { MIB, roundedMib } from '../mebibytes.ts';
import { countBy } from '../count-by.ts';
import { tenantOfName } from '../tenants/tenant-names.ts';
import type { Quotas } from '../tenants/quotas.ts';
import type { StoreCounts } from '../registry/catalog-queries.ts';

export interface ReportSources {
  runtime: ModelRuntime;
  catalog: ModelCatalog;
  settings: Settings;
  gpus: { query(): Promise<GpuQuery> };
  /** Versions, bytes and blobs of the store: every tenant's, or one tenant's. */
  storeCounts(tenant?: string): Promise<StoreCounts>;
}

/** A tenant key's view of a system report: its own models only, and its quotas as its budgets. None: the system view. */
export interface TenantView {
  tenant: string;
  quotas: Quotas;
}

/** The runtime's deployments the view sees. */
function visibleSnapshots(s: ReportSources, view?: TenantView) {
  const all = s.runtime.snapshots();
  return view ? all.filter((d) => tenantOfName(d.name) === view.tenant) : all;
}

/**
 * `{"gpus":{"gpu_0":{name, memory…, utilization_percent, temperature_c, power_w, processes:[{pid, model, memory_mb}]}}}`.
 * A tenant sees every card and its readings (the hardware its models share; no model is named there) but only the
 * processes of its own models: other tenants' runners and processes outside Hangar are left out.
 */
export async function gpuStatus(s: ReportSources, view?: TenantView) {
  const query = await s.gpus.query();
  if (!query.available) return { available: false as const, reason: query.reason, gpus: {} };
  const modelByPid = new Map(visibleSnapshots(s, view).flatMap((d) => (d.pid === null ? [] : [[d.pid, d.name] as const])));
  const gpus = Object.fromEntries(
    query.gpus.map((gpu) => [
      `gpu_${gpu.index}`,
      {
        index: gpu.index,
        name: gpu.name,
        uuid: gpu.uuid,
        memory_total_mb: gpu.memoryTotalMb,
        memory_used_mb: gpu.memoryUsedMb,
        memory_free_mb: gpu.memoryFreeMb,
        utilization_percent: gpu.utilizationPercent,
        temperature_c: gpu.temperatureC,
        power_w: gpu.powerW,
        processes: query.processes
          .filter((p) => p.gpuUuid === gpu.uuid && (!view || modelByPid.has(p.pid)))
          .map((p) => ({ pid: p.pid, process_name: p.processName, model: modelByPid.get(p.pid) ?? null, memory_mb: p.usedMemoryMb })),
      },
    ]),
  );
  return { available: true as const, gpus };
}

const previousCpu = new Map<number, { at: number; seconds: number }>();

/** CPU use since this pid was last sampled (within a minute), else the average over its lifetime so far. */
function cpuOf(pid: number): { cpu_seconds: number | null; cpu_percent: number | null } {
  const seconds = readCpuSeconds(pid);
  if (seconds === null) return { cpu_seconds: null, cpu_percent: null };
  const now = Date.now();
  const before = previousCpu.get(pid);
  previousCpu.set(pid, { at: now, seconds });
  if (!before || now - before.at > 60_000 || now === before.at) return { cpu_seconds: seconds, cpu_percent: null };
  return { cpu_seconds: seconds, cpu_percent: Math.round(((seconds - before.seconds) / ((now - before.at) / 1000)) * 1000) / 10 };
}

/**
 * Memory and CPU of the server and of each runner (seed 003's resource usage). A tenant sees its own runners, their
 * totals, and as its budget its ram_mb quota (at most the machine's budget) when it has one.
 */
export async function resources(s: ReportSources, view?: TenantView) {
  const runners = [];
  const external = [];
  for (const dep of visibleSnapshots(s, view)) {
    if (dep.alive && dep.pid === null && dep.version) {
      // A model on an external server: its memory is that server's report, and none of this machine's.
      external.push({
        model: dep.name,
        version: dep.version.number,
        status: dep.state,
        backend: dep.version.backend,
        device: dep.device,
        memory_mb: roundedMib(dep.rssBytes),
        vram_mb: dep.vramBytes ? roundedMib(dep.vramBytes) : null,
      });
    }
    if (!dep.alive || dep.pid === null) continue;
    const rss = readRssBytes(dep.pid) ?? dep.rssBytes;
    runners.push({
      model: dep.name,
      version: dep.version?.number ?? null,
      status: dep.state,
      pid: dep.pid,
      device: dep.device,
      memory_mb: roundedMib(rss),
      vram_mb: dep.vramBytes ? roundedMib(dep.vramBytes) : null,
      ...cpuOf(dep.pid),
    });
  }
  const server = { pid: process.pid, memory_mb: roundedMib(process.memoryUsage().rss), ...cpuOf(process.pid) };
  const modelMemory = runners.reduce((sum, r) => sum + r.memory_mb, 0);
  const machineBudget = s.runtime.ramBudgetBytes();
  const quota = view?.quotas.ram_mb;
  return {
    server,
    runners,
    external,
    loaded_models: runners.filter((r) => r.status === 'loaded').length,
    total_model_memory_mb: Math.round(modelMemory * 10) / 10,
    ram_budget_mb: roundedMib(quota === undefined ? machineBudget : Math.min(machineBudget, quota * MIB)),
  };
}

/** Memory budgets and use per device, the eviction policy, keep-alive default and what is loaded where. */
export async function optimizationStatus(s: ReportSources) {
  const config = s.settings.current;
  const res = await resources(s);
  const query = await s.gpus.query();
  const usage = s.runtime.deviceUsage();
  const gpuDevices = query.gpus.map((gpu) => {
    const ours = usage.gpus.get(gpu.index) ?? { vramBytes: 0, models: [] };
    const ownBytes = ours.vramBytes;
    return {
      device: `gpu_${gpu.index}`,
      budget_mb: roundedMib(gpuBudgetBytes(gpu, config.memory.vram_budget_mb, ownBytes)),
      used_by_models_mb: roundedMib(ownBytes),
      used_total_mb: gpu.memoryUsedMb,
      total_mb: gpu.memoryTotalMb,
      models: ours.models,
    };
  });
  return {
    devices: [
      {
        device: 'cpu',
        budget_mb: res.ram_budget_mb,
        used_by_models_mb: res.total_model_memory_mb,
        models: res.runners.filter((r) => r.device === 'cpu').map((r) => r.model),
      },
      ...gpuDevices,
    ],
    eviction_policy: 'idle and unpinned models only: expired keep-alive first, then least recently used; pinned models are never evicted',
    keep_alive_default: formatKeepAlive(parseKeepAlive(config.runtime.keep_alive)),
    max_loaded_models: config.memory.max_loaded_models,
    dynamic_loading_enabled: config.dynamic_loading_enabled,
    threads_per_runner: s.runtime.defaultThreads(),
    warm_spares: config.runtime.warm_spares,
    loaded: res.runners.map((r) => ({ model: r.model, version: r.version, device: r.device, memory_mb: r.memory_mb, pid: r.pid })),
  };
}

/** Totals in one response: models, versions, loaded, failed, available on disk, memory, system status (a tenant: its own). */
export async function summary(s: ReportSources, systemStatus: string, view?: TenantView) {
  const statuses = Object.values(await s.runtime.statusAll(view?.tenant));
  const counts = await s.storeCounts(view?.tenant);
  const res = await resources(s, view);
  return {
    models: {
      total: statuses.length,
      loaded: statuses.filter((m) => m.status === 'loaded').length,
      failed: statuses.filter((m) => m.status === 'failed').length,
      loading: statuses.filter((m) => m.status === 'loading').length,
    },
    versions: { total: counts.versions, available_on_disk: counts.versionsOnDisk, missing_files: counts.versions - counts.versionsOnDisk },
    storage: { bytes: counts.bytes, blobs: counts.blobs },
    memory: { models_mb: res.total_model_memory_mb, server_mb: res.server.memory_mb, ram_budget_mb: res.ram_budget_mb },
    system_status: systemStatus,
    by_backend: countBy(statuses, (m) => m.backend ?? 'unknown'),
  };
}
