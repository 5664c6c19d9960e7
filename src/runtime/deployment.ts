// One model's runtime state: which version is loaded where, its runner, slots, keep-alive and failure history.
import type { RunnerProcess } from './runner-process.ts';
import type { Backend } from './protocol.ts';
import type { ModelState, ModelStatus } from '../schemas/runtime.ts';
import { SlotQueue } from './slot-queue.ts';
import { formatKeepAlive } from './keep-alive.ts';
import { MIB } from './placement.ts';

/** Options a deployment was loaded with, resolved to concrete values (kept for restarts and reloads). */
export interface ResolvedLoadOptions {
  requestedDevice: 'cpu' | 'gpu' | 'auto';
  gpuIndex?: number;
  contextSize?: number;
  threads: number;
  parallel: number;
}

export interface LoadedVersion {
  id: string;
  number: number;
  backend: Backend;
  sizeBytes: number;
}

/** setTimeout's limit; longer keep-alives are re-armed when they fire. */
const MAX_TIMER_MS = 2_147_483_647;

export class Deployment {
  state: ModelState = 'not_loaded';
  version: LoadedVersion | null = null;
  device: 'cpu' | 'gpu' = 'cpu';
  gpuIndex: number | null = null;
  deviceNote: string | null = null;
  runner: RunnerProcess | null = null;
  /** The ref the user loaded (`name` or `name:3`), re-resolved by reload. */
  ref: string;
  options: ResolvedLoadOptions | null = null;
  loadedAt: number | null = null;
  lastUsedAt = 0;
  lastInferenceAt: number | null = null;
  keepAliveMs: number;
  expiresAt: number | null = null;
  pinned = false;
  failure: string | null = null;
  restartTimes: number[] = [];
  loadCount = 0;
  lastLoadMs: number | null = null;
  /** Shared by concurrent callers while a load or restart is under way. */
  pending: Promise<void> | null = null;
  readonly slots: SlotQueue;
  private expiryTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly name: string,
    keepAliveMs: number,
    capacity: number,
    maxQueue: () => number,
  ) {
    this.ref = name;
    this.keepAliveMs = keepAliveMs;
    this.slots = new SlotQueue(capacity, maxQueue);
  }

  /** Requests running or waiting. */
  get busy(): number {
    return this.slots.active + this.slots.waiting;
  }

  memoryBytes(): number {
    return this.runner?.memory.rssBytes ?? 0;
  }

  /** Starts the keep-alive countdown (only when idle); `onExpire` unloads. */
  armKeepAlive(onExpire: () => void): void {
    this.disarmKeepAlive();
    if (this.state !== 'loaded' || this.busy > 0 || this.keepAliveMs === Infinity) return;
    this.expiresAt = Date.now() + this.keepAliveMs;
    const fire = () => {
      const remaining = (this.expiresAt ?? 0) - Date.now();
      if (remaining > 0) this.expiryTimer = setTimeout(fire, Math.min(remaining, MAX_TIMER_MS));
      else onExpire();
    };
    this.expiryTimer = setTimeout(fire, Math.min(this.keepAliveMs, MAX_TIMER_MS));
    this.expiryTimer.unref();
  }

  disarmKeepAlive(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    this.expiresAt = null;
  }

  /** The status document of seeds 000/002/003, with live memory read by the caller. */
  toStatus(memory: { rssBytes: number | null; vramBytes: number | null }): ModelStatus {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    const ready = this.runner?.ready;
    const running = this.state === 'loaded' || this.state === 'unloading' || this.state === 'loading';
    return {
      name: this.name,
      status: this.state,
      version: this.version?.number ?? null,
      backend: this.version?.backend ?? null,
      device: this.device,
      gpu: this.device === 'gpu' ? this.gpuIndex : null,
      device_note: this.deviceNote,
      memory_usage_mb: running && memory.rssBytes ? Math.round((memory.rssBytes / MIB) * 10) / 10 : 0,
      vram_usage_mb: running && memory.vramBytes ? Math.round((memory.vramBytes / MIB) * 10) / 10 : null,
      pid: running && this.runner?.isAlive ? this.runner.pid : null,
      in_flight: this.slots.active,
      queue_depth: this.slots.waiting,
      last_inference: iso(this.lastInferenceAt),
      loaded_at: this.state === 'loaded' ? iso(this.loadedAt) : null,
      expires_at: this.state === 'loaded' ? iso(this.expiresAt) : null,
      keep_alive: formatKeepAlive(this.keepAliveMs),
      pinned: this.pinned,
      reason: this.state === 'failed' ? this.failure : null,
      restarts: this.restartTimes.length,
      load_count: this.loadCount,
      last_load_ms: this.lastLoadMs,
      context_size: running ? (ready?.contextSize ?? null) : null,
      embedding_length: ready?.embeddingLength ?? null,
      capabilities: ready?.capabilities ?? [],
    };
  }
}
