// Per-model concurrency: a fixed number of slots and a bounded queue of waiters (503 queue_full beyond it).
import { type HangarError, ServiceUnavailable } from '../errors.ts';

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (error: Error) => void;
}

export class SlotQueue {
  private activeCount = 0;
  private readonly waiters: Waiter[] = [];
  /** While held, new requests queue even with free slots (a live swap's cut-over). */
  private held = false;

  constructor(
    private capacity: number,
    private readonly maxQueue: () => number,
  ) {}

  /** Raising capacity lets waiters in at once; lowering it takes effect as slots are released. */
  setCapacity(capacity: number): void {
    this.capacity = capacity;
    this.admitWaiters();
  }

  private admitWaiters(): void {
    while (!this.held && this.activeCount < this.capacity && this.waiters.length > 0) {
      this.activeCount++;
      this.waiters.shift()?.resolve(this.releaser());
    }
  }

  /**
   * Stops handing out slots (requests queue; running ones finish) until the returned function is
   * called, so a swap can let the old model's requests finish before the new model takes any.
   */
  hold(): () => void {
    this.held = true;
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      this.held = false;
      this.admitWaiters();
    };
  }

  get active(): number {
    return this.activeCount;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves with a release function once a slot is free; rejects at once when the queue is full. */
  acquire(): Promise<() => void> {
    if (!this.held && this.activeCount < this.capacity) {
      this.activeCount++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiters.length >= this.maxQueue()) {
      return Promise.reject(
        new ServiceUnavailable(
          `The model's queue is full (${this.maxQueue()} waiting); retry later`,
          { queue_depth: this.waiters.length },
          'queue_full',
        ),
      );
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = !this.held && this.activeCount <= this.capacity ? this.waiters.shift() : undefined;
      if (next) next.resolve(this.releaser());
      else this.activeCount--;
    };
  }

  /** Fails every waiter (model unloaded or crashed); running requests keep their slots. */
  rejectWaiting(error: HangarError): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}
