// Keep-alive durations with Ollama's semantics: "5m", "30s", "1h", seconds as a number, 0 = unload when idle, negative = forever.
import { InvalidInput } from '../errors.ts';

export type KeepAliveInput = string | number;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A bare number of seconds, or Go-style duration parts as Ollama's clients send them ("5m", "1h30m", "10m0s"). */
const SECONDS = /^-?[0-9]+(?:\.[0-9]+)?$/;
const DURATION = /^-?(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h))+$/;
const DURATION_PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;

/** Milliseconds; `Infinity` for "forever". Throws 400 `invalid_keep_alive` on anything else. */
export function parseKeepAlive(value: KeepAliveInput): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalidKeepAlive(value);
    return value < 0 ? Infinity : Math.round(value * 1000);
  }
  const text = value.trim();
  if (SECONDS.test(text)) {
    const seconds = Number.parseFloat(text);
    return seconds < 0 ? Infinity : Math.round(seconds * 1000);
  }
  if (!DURATION.test(text)) throw invalidKeepAlive(value);
  if (text.startsWith('-')) return Infinity;
  let totalMs = 0;
  for (const [, amount = '0', unit = 's'] of text.matchAll(DURATION_PART)) totalMs += Number.parseFloat(amount) * (UNIT_MS[unit] ?? 1000);
  return Math.round(totalMs);
}

function invalidKeepAlive(value: unknown): InvalidInput {
  return new InvalidInput(
    `keep_alive ${JSON.stringify(value)} is not a duration: use e.g. "5m", "30s", "1h", seconds, 0 (unload when idle) or a negative number (forever)`,
    { field: 'keep_alive' },
    'invalid_keep_alive',
  );
}

/** "5m0s"-free human form for status replies: "forever", "0s", "90s", "5m", "2h". */
export function formatKeepAlive(ms: number): string {
  if (ms === Infinity) return 'forever';
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}
