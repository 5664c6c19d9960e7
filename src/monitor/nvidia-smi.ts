// Reads GPUs and per-process GPU memory from nvidia-smi's CSV query interface (cached briefly so polling is cheap).
import { execFile } from 'node:child_process';
import { textBefore } from '../text-before.ts';

export interface GpuInfo {
  index: number;
  name: string;
  uuid: string;
  memoryTotalMb: number;
  memoryUsedMb: number;
  memoryFreeMb: number;
  utilizationPercent: number | null;
  temperatureC: number | null;
  powerW: number | null;
}

export interface GpuProcess {
  pid: number;
  processName: string;
  usedMemoryMb: number;
  gpuUuid: string;
}

export type GpuQuery =
  | { available: true; gpus: GpuInfo[]; processes: GpuProcess[] }
  | { available: false; gpus: []; processes: []; reason: string };

const GPU_FIELDS = 'index,name,uuid,memory.total,memory.used,memory.free,utilization.gpu,temperature.gpu,power.draw';
const APP_FIELDS = 'pid,process_name,used_memory,gpu_uuid';
const CACHE_MS = 1000;
const TIMEOUT_MS = 5000;

/** `[N/A]`, `[Not Supported]` and empty cells are unknown values. */
function numberOrNull(cell: string | undefined): number | null {
  if (cell === undefined) return null;
  const value = Number.parseFloat(cell.trim());
  return Number.isFinite(value) ? value : null;
}

function splitCsvLine(line: string): string[] {
  return line.split(',').map((cell) => cell.trim());
}

export function parseGpuCsv(stdout: string): GpuInfo[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      // Cells a short row lacks read as '': a row without an index is dropped below, missing text stays empty.
      const [index = '', name = '', uuid = '', total, used, free, util, temp, power] = splitCsvLine(line);
      return {
        index: Number.parseInt(index, 10),
        name,
        uuid,
        memoryTotalMb: numberOrNull(total) ?? 0,
        memoryUsedMb: numberOrNull(used) ?? 0,
        memoryFreeMb: numberOrNull(free) ?? 0,
        utilizationPercent: numberOrNull(util),
        temperatureC: numberOrNull(temp),
        powerW: numberOrNull(power),
      };
    })
    .filter((gpu) => Number.isInteger(gpu.index));
}

export function parseComputeAppsCsv(stdout: string): GpuProcess[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [pid = '', processName = '', used, gpuUuid = ''] = splitCsvLine(line);
      return { pid: Number.parseInt(pid, 10), processName, usedMemoryMb: numberOrNull(used) ?? 0, gpuUuid };
    })
    .filter((p) => Number.isInteger(p.pid));
}

/** The reason given when the executable does not exist. */
const MISSING_BINARY = 'nvidia-smi not found on PATH';
const MISSING_BINARY_CACHE_MS = 60_000;
/** How much older than its cache time an answer may be served while a fresh one is fetched. */
const MAX_STALE_MS = 4000;

/** No binary on this machine will not change from one second to the next: look again a minute later. */
function ttlOf(result: GpuQuery): number {
  return !result.available && result.reason === MISSING_BINARY ? MISSING_BINARY_CACHE_MS : CACHE_MS;
}

function run(binary: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const text = (stdout || stderr || '').trim();
        reject(new Error(code === 'ENOENT' ? MISSING_BINARY : text || error.message));
      } else resolve(stdout);
    });
  });
}

/** Queries nvidia-smi; never throws: no binary, no driver or no device gives `available: false` with the reason. */
export class NvidiaSmi {
  private cached: { at: number; ttl: number; value: Promise<GpuQuery> } | undefined;
  private refreshing = false;

  constructor(private readonly binary = 'nvidia-smi') {}

  /**
   * The GPUs, about a second old. A request that finds the answer older is answered from it at once while a
   * fresh one is fetched in the background (up to a few seconds stale), so steady polling never waits for
   * nvidia-smi; after a long quiet spell the request waits for a fresh answer.
   */
  query(): Promise<GpuQuery> {
    const now = Date.now();
    if (!this.cached) {
      this.cached = { at: now, ttl: CACHE_MS, value: this.fetch() };
      return this.cached.value;
    }
    const age = now - this.cached.at;
    // Too old to show while refreshing (nobody asked for a while): wait for a fresh answer.
    if (age >= this.cached.ttl + MAX_STALE_MS && !this.refreshing) {
      this.cached = { at: now, ttl: CACHE_MS, value: this.fetch() };
      return this.cached.value;
    }
    if (age >= this.cached.ttl && !this.refreshing) {
      this.refreshing = true;
      const next = this.fetch();
      void next.then((result) => {
        this.cached = { at: Date.now(), ttl: ttlOf(result), value: next };
        this.refreshing = false;
      });
    }
    return this.cached.value;
  }

  private async fetch(): Promise<GpuQuery> {
    const result = await this.queryNow();
    if (this.cached) this.cached.ttl = ttlOf(result);
    return result;
  }

  private async queryNow(): Promise<GpuQuery> {
    try {
      const gpus = parseGpuCsv(await run(this.binary, [`--query-gpu=${GPU_FIELDS}`, '--format=csv,noheader,nounits']));
      if (gpus.length === 0) return { available: false, gpus: [], processes: [], reason: 'nvidia-smi lists no GPU' };
      const processes = parseComputeAppsCsv(
        await run(this.binary, [`--query-compute-apps=${APP_FIELDS}`, '--format=csv,noheader,nounits']).catch(() => ''),
      );
      return { available: true, gpus, processes };
    } catch (error) {
      return { available: false, gpus: [], processes: [], reason: textBefore((error as Error).message, '\n') };
    }
  }
}
