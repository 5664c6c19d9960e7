// Per-model concurrency: a fixed number of slots and a bounded queue of waiters (503 queue_full beyond it).
import { HangarError, ServiceUnavailable } from '../errors.ts';

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (error: Error) => void;
}

export class SlotQueue {
  private activeCount = 0;
  private readonly waiters: Waiter[] = [];

  constructor(
    private capacity: number,
    private readonly maxQueue: () => number,
  ) {}

  /** Raising capacity lets waiters in at once; lowering it takes effect as slots are released. */
  setCapacity(capacity: number): void {
    this.capacity = capacity;
    while (this.activeCount < this.capacity && this.waiters.length > 0) {
      this.activeCount++;
      this.waiters.shift()?.resolve(this.releaser());
    }
  }

  get active(): number {
    return this.activeCount;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves with a release function once a slot is free; rejects at once when the queue is full. */
  acquire(): Promise<() => void> {
    if (this.activeCount < this.capacity) {
      this.activeCount++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiters.length >= this.maxQueue()) {
      return Promise.reject(new ServiceUnavailable(`The model's queue is full (${this.maxQueue()} waiting); retry later`, { queue_depth: this.waiters.length }, 'queue_full'));
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.activeCount <= this.capacity ? this.waiters.shift() : undefined;
      if (next) next.resolve(this.releaser());
      else this.activeCount--;
    };
  }

  /** Fails every waiter (model unloaded or crashed); running requests keep their slots. */
  rejectWaiting(error: HangarError): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}
