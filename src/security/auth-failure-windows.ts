// Failed authentications per client address in fixed windows: who is over the limit, and which failures are worth an audit row.
export interface AuthFailureWindowsOptions {
  /** Failures with a presented key allowed per window and address (read on every use, so changes apply live); 0 = no limit. */
  limit: () => number;
  /** Window length; the window starts at an address's first failure. Default: 60 000 (one minute). */
  windowMs?: number;
  /** Failures audited one by one per address and window; the rest are only counted. Default: 5. */
  auditedPerWindow?: number;
  /** Addresses remembered at most, so a spray of addresses cannot grow memory without bound. Default: 10 000. */
  maxTrackedAddresses?: number;
  /** Clock (ms); tests pass their own. Default: Date.now. */
  now?: () => number;
}

export interface FailureVerdict {
  /** Audit this failure as `auth.failure` (one of the first of its window). */
  auditFailure: boolean;
  /** This failure took the address over the limit: audit one `auth.blocked`. */
  blocked: boolean;
  /** Failures with a presented key in the window so far. */
  failures: number;
  /** When the address's window ends (epoch ms). */
  windowEndsAt: number;
}

interface Window {
  startedAt: number;
  /** Failures that count toward the limit (a key was presented). */
  failures: number;
  /** Failures of any kind seen, for the audit cap. */
  seen: number;
  blockRecorded: boolean;
}

export class AuthFailureWindows {
  private readonly windows = new Map<string, Window>();
  private readonly windowMs: number;
  private readonly auditedPerWindow: number;
  private readonly maxTracked: number;
  private readonly now: () => number;

  constructor(private readonly o: AuthFailureWindowsOptions) {
    this.windowMs = o.windowMs ?? 60_000;
    this.auditedPerWindow = o.auditedPerWindow ?? 5;
    this.maxTracked = o.maxTrackedAddresses ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  /** The address's current window, or undefined when it has none (or it ended). */
  private current(address: string): Window | undefined {
    const window = this.windows.get(address);
    if (window && this.now() >= window.startedAt + this.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }

  /** Milliseconds until the address may try again when it is over the limit; null when it is not. */
  blockedForMs(address: string): number | null {
    const limit = this.o.limit();
    const window = this.current(address);
    if (limit <= 0 || !window || window.failures < limit) return null;
    return Math.max(0, window.startedAt + this.windowMs - this.now());
  }

  /**
   * Counts one failed authentication. `presentedKey`: a credential was sent and refused (counts toward the
   * limit); without one it is only considered for the audit, since nothing was guessed.
   */
  recordFailure(address: string, presentedKey: boolean): FailureVerdict {
    let window = this.current(address);
    if (!window) {
      this.makeRoom();
      window = { startedAt: this.now(), failures: 0, seen: 0, blockRecorded: false };
      this.windows.set(address, window);
    }
    window.seen += 1;
    if (presentedKey) window.failures += 1;
    const limit = this.o.limit();
    const blocked = limit > 0 && window.failures >= limit && !window.blockRecorded;
    if (blocked) window.blockRecorded = true;
    return {
      auditFailure: window.seen <= this.auditedPerWindow,
      blocked,
      failures: window.failures,
      windowEndsAt: window.startedAt + this.windowMs,
    };
  }

  /** Drops ended windows; when every slot is still live, the oldest address is forgotten. */
  private makeRoom(): void {
    if (this.windows.size < this.maxTracked) return;
    const now = this.now();
    for (const [address, window] of this.windows) if (now >= window.startedAt + this.windowMs) this.windows.delete(address);
    // Maps iterate in insertion order: the first key is the oldest window.
    const oldest = this.windows.keys().next();
    if (this.windows.size >= this.maxTracked && !oldest.done) this.windows.delete(oldest.value);
  }
}
