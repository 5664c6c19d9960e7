// One model's runtime state (owned by ModelRuntime, never handed out): version, device, served model, slots, keep-alive, failures.
import type { ModelState, LoadOptions } from '../schemas/runtime.ts';
import type { BackendId } from './backend-ids.ts';
import type { ServedModel } from './served-model.ts';
import { SlotQueue } from './slot-queue.ts';

export interface LoadedVersion {
  id: string;
  number: number;
  backend: BackendId;
  sizeBytes: number;
}

/** A read-only picture of a deployment for monitoring, estimates and the application layer. */
export interface DeploymentSnapshot {
  readonly name: string;
  readonly state: ModelState;
  readonly version: Readonly<LoadedVersion> | null;
  /** The ref the user loaded (`name` follows production; `name:3` is pinned to a version). */
  readonly ref: string;
  readonly device: 'cpu' | 'gpu';
  readonly gpuIndex: number | null;
  readonly pid: number | null;
  /** Whether its model is being served now (process alive / backend holding it). */
  readonly alive: boolean;
  /** Latest memory report of the served model (0 / null when none). */
  readonly rssBytes: number;
  readonly vramBytes: number | null;
  /** Requests waiting for a slot. */
  readonly queueDepth: number;
  readonly loadCount: number;
  readonly lastLoadMs: number | null;
}

/** setTimeout's limit; longer keep-alives are re-armed when they fire. */
const MAX_TIMER_MS = 2_147_483_647;

export class Deployment {
  state: ModelState = 'not_loaded';
  version: LoadedVersion | null = null;
  device: 'cpu' | 'gpu' = 'cpu';
  gpuIndex: number | null = null;
  deviceNote: string | null = null;
  served: ServedModel | null = null;
  /** The ref the user loaded (`name` or `name:3`), re-resolved by reload. */
  ref: string;
  /** The options of the last load as asked for, reused by restarts and reloads. */
  requestedOptions: LoadOptions = {};
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

  /** Memory the served model reported last (RSS), 0 when none. */
  memoryBytes(): number {
    return this.served?.memory.rssBytes ?? 0;
  }

  /** Holding a model (or about to): a delete must wait, placement must count it. */
  get holdsModel(): boolean {
    return this.pending !== null || this.state === 'loading' || this.state === 'loaded' || this.state === 'unloading';
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

  snapshot(): DeploymentSnapshot {
    const served = this.served;
    return {
      name: this.name,
      state: this.state,
      version: this.version ? { ...this.version } : null,
      ref: this.ref,
      // A model on an external server is where that server's latest report puts it.
      device: served && served.pid === null ? served.ready.device : this.device,
      gpuIndex: this.gpuIndex,
      pid: served?.isAlive ? served.pid : null,
      alive: served?.isAlive ?? false,
      rssBytes: served?.memory.rssBytes ?? 0,
      vramBytes: served?.memory.vramBytes ?? null,
      queueDepth: this.slots.waiting,
      loadCount: this.loadCount,
      lastLoadMs: this.lastLoadMs,
    };
  }
}
