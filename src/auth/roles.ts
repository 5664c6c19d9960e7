// Roles and what they may do: viewer reads, operator runs models, admin changes configuration, keys and the registry.

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a route requires: a role, or `public` (no key needed). */
export type RouteAccess = Role | 'public';

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export function roleAllows(held: Role, required: Role): boolean {
  return RANK[held] >= RANK[required];
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
