// Per-tenant request budgets: a one-minute window per tenant and budget, shared by all of the tenant's keys.
export interface WindowVerdict {
  allowed: boolean;
  /** Seconds until the window resets (for Retry-After). */
  retryAfterSeconds: number;
  used: number;
}

export class TenantRateWindows {
  private readonly windows = new Map<string, { startedAt: number; used: number }>();

  constructor(private readonly windowMs = 60_000) {}

  /** Counts one request against `limit` in the current window of `key`; refused requests are not counted. */
  take(key: string, limit: number, now = Date.now()): WindowVerdict {
    let window = this.windows.get(key);
    if (!window || now - window.startedAt >= this.windowMs) {
      window = { startedAt: now, used: 0 };
      this.windows.set(key, window);
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((window.startedAt + this.windowMs - now) / 1000));
    if (window.used >= limit) return { allowed: false, retryAfterSeconds, used: window.used };
    window.used += 1;
    return { allowed: true, retryAfterSeconds, used: window.used };
  }
}
