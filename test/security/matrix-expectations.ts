// The one rule of the matrix: what each principal must get from an operation, derived from the route's declared role, system flag and responses.
import type { Principal } from './matrix-fixtures.ts';

/** What a route declares about itself: config.role / config.system / config.audit and its OpenAPI responses. */
export interface RouteFacts {
  /** `METHOD /openapi/path`. */
  key: string;
  method: string;
  path: string;
  role: 'public' | 'viewer' | 'operator' | 'admin';
  system: boolean;
  audit: string | undefined;
  declared: Set<number>;
}

export type Expectation =
  | { outcome: 'allowed' }
  | { outcome: 'unauthorized' }
  | { outcome: 'forbidden'; why: string }
  | { outcome: 'missing'; why: string };

/** The role each key holds; the principals without a valid key hold none. */
const HELD: Partial<Record<Principal, 'viewer' | 'operator' | 'admin'>> = {
  viewer: 'viewer',
  operator: 'operator',
  admin: 'admin',
  other_admin: 'admin',
  other_qualified: 'admin',
  system: 'admin',
};
const RANK = { viewer: 1, operator: 2, admin: 3 } as const;
const TENANT_KEYS: Principal[] = ['viewer', 'operator', 'admin', 'other_admin', 'other_qualified'];
const OTHER_TENANT: Principal[] = ['other_admin', 'other_qualified'];

/**
 * public: anyone passes (a bad key on a public route is ignored, never 401); no, malformed, revoked or expired key: 401;
 * a role below the route's: 403; a system route with a tenant's key: 403; another tenant's admin addressing t1's
 * model, job, webhook or key: exactly what the same request naming a missing one gets (a 404 with the same body, never
 * 403: existence is not revealed; or, where a route creates what it names, the same success in its own tenant); else allowed.
 */
export function expectedOutcome(route: RouteFacts, principal: Principal, addressesT1: boolean): Expectation {
  if (route.role === 'public') return { outcome: 'allowed' };
  const held = HELD[principal];
  if (held === undefined) return { outcome: 'unauthorized' };
  if (RANK[held] < RANK[route.role]) return { outcome: 'forbidden', why: `needs ${route.role}, has ${held}` };
  if (route.system && TENANT_KEYS.includes(principal)) return { outcome: 'forbidden', why: 'system route, tenant key' };
  if (OTHER_TENANT.includes(principal) && addressesT1) return { outcome: 'missing', why: "addresses t1's resource" };
  return { outcome: 'allowed' };
}

export function describeExpectation(expect: Expectation): string {
  switch (expect.outcome) {
    case 'allowed':
      return 'success';
    case 'unauthorized':
      return '401';
    case 'forbidden':
      return `403 (${expect.why})`;
    case 'missing':
      return `as for a missing resource (${expect.why})`;
  }
}

/**
 * Declared non-2xx answers an allowed principal may get from a valid request, with the reason: the state the
 * fixtures are in makes them the right answer. Anything else non-2xx fails its cell.
 */
export const EXPLAINED: Record<string, Record<number, string>> = {
  'POST /api/v1/models/{name}/rollback': { 409: 'no_previous_version: the fixture model has had one production version only' },
  'DELETE /api/v1/tenants/{tenant}': { 409: 'tenant_not_empty: t1 holds the fixtures' },
  'DELETE /api/v1/jobs/{id}': { 409: 'job_finished: the fixture job is a completed download' },
  'POST /api/v1/jobs/{id}/pause': { 409: 'job_finished: the fixture job is a completed download' },
  'POST /api/v1/jobs/{id}/resume': { 409: 'job_finished: the fixture job is a completed download' },
  'POST /api/push': { 501: 'pushing is not supported (the route declares 501)' },
};

export interface Cell {
  route: RouteFacts;
  principal: Principal;
  status: number;
  expect: Expectation;
  problems: string[];
}

const LABELS: Record<Principal, string> = {
  none: 'none',
  malformed: 'malformed',
  revoked: 'revoked',
  expired: 'expired',
  viewer: 'viewer',
  operator: 'operator',
  admin: 'admin',
  other_admin: 't2admin',
  other_qualified: 't2admin~',
  system: 'system',
};

/**
 * The matrix as text: one row per operation, one column per principal; a failing cell is marked with `!`, and `·`
 * marks a t2admin~ cell of an operation whose request names no model (it would repeat the t2admin cell).
 */
export function formatTable(routes: RouteFacts[], principals: readonly Principal[], cells: Cell[]): string {
  const width = Math.max(...routes.map((r) => r.key.length));
  const header = `${'operation'.padEnd(width)} ${principals.map((p) => LABELS[p].padStart(9)).join(' ')}`;
  const rows = routes.map((route) => {
    const statuses = principals.map((principal) => {
      const cell = cells.find((c) => c.route === route && c.principal === principal);
      const text = cell ? `${cell.problems.length ? '!' : ''}${cell.status}` : '·';
      return text.padStart(9);
    });
    return `${route.key.padEnd(width)} ${statuses.join(' ')}`;
  });
  return [header, ...rows].join('\n');
}
