// Tenant names, and the qualified model names that keep each tenant's models apart in one catalog.
import { InvalidInput, NotFound } from '../errors.ts';

/** The tenant of everything made with auth off, by system keys without naming a tenant, and before tenants existed. */
export const DEFAULT_TENANT = 'default';

/** Short enough that `~tenant/` plus a 127-character name fits the catalog's 160-character name column. */
export const MAX_TENANT_NAME_LENGTH = 30;
const TENANT_NAME = /^[a-z0-9][a-z0-9-]*$/;

/** Marks a qualified name of a tenant other than the default: `~acme/tinyllama`. */
export const TENANT_MARK = '~';

/** Validates a tenant name: lower-case ASCII letters, digits and `-`, starting with a letter or digit. */
export function parseTenantName(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  const fail = (reason: string) =>
    new InvalidInput(`Invalid tenant name "${text.slice(0, 64)}": ${reason}`, { name: text.slice(0, 64), reason }, 'invalid_tenant_name');
  if (typeof value !== 'string' || value.length === 0) throw fail('it is empty');
  if (value.length > MAX_TENANT_NAME_LENGTH) throw fail(`it is longer than ${MAX_TENANT_NAME_LENGTH} characters`);
  if (!TENANT_NAME.test(value)) throw fail('use lower-case letters, digits and "-", starting with a letter or digit');
  return value;
}

/** The catalog's name for a tenant's model (or `name:ref`): unchanged in the default tenant, `~tenant/name` elsewhere. */
export function qualifiedName(tenant: string, nameRef: string): string {
  return tenant === DEFAULT_TENANT ? nameRef : `${TENANT_MARK}${tenant}/${nameRef}`;
}

/** Splits a qualified name into its tenant and the name that tenant uses. */
export function splitQualifiedName(qualified: string): { tenant: string; name: string } {
  if (!qualified.startsWith(TENANT_MARK)) return { tenant: DEFAULT_TENANT, name: qualified };
  const slash = qualified.indexOf('/');
  if (slash === -1) return { tenant: DEFAULT_TENANT, name: qualified };
  return { tenant: qualified.slice(1, slash), name: qualified.slice(slash + 1) };
}

/** The tenant a qualified model name belongs to. */
export function tenantOfName(qualified: string): string {
  return splitQualifiedName(qualified).tenant;
}

/** The one 404 for a tenant that does not exist (or was deleted), wherever it is looked up. */
export function tenantNotFound(name: string): NotFound {
  return new NotFound(`No tenant named "${name}"`, { tenant: name }, 'tenant_not_found');
}
