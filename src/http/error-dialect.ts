// How a compatible surface words errors: Hangar's `{error:{code,message,details}}` rendered as that surface's clients expect.
import type { ErrorResponse } from '../schemas/common.ts';

/** One surface's error shape, chosen by the request path (so 404s and auth errors of that surface match too). */
export interface ErrorDialect {
  /** Whether a request path belongs to this surface. */
  matches(path: string): boolean;
  /** The status and body to send instead of Hangar's own. */
  render(status: number, body: ErrorResponse): { status: number; payload: unknown };
}

/** The dialect of the surface a path belongs to, or null for Hangar's own shape. */
export function dialectFor(dialects: readonly ErrorDialect[], path: string): ErrorDialect | null {
  return dialects.find((dialect) => dialect.matches(path)) ?? null;
}
