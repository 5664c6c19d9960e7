// Whose models a caller sees: one tenant (a tenant's key) or all of them (a system key, or auth off), and the name mapping between them.
import { InvalidInput } from '../errors.ts';
import { DEFAULT_TENANT, qualifiedName, TENANT_MARK, tenantOfName } from './tenant-names.ts';

export class TenantScope {
  private static readonly everyTenant = new TenantScope(null);

  /** A system key's view (and everyone's with auth off): every tenant, names as the catalog holds them. */
  static system(): TenantScope {
    return TenantScope.everyTenant;
  }

  /** A tenant key's view: that tenant's rows only, names without the tenant prefix. */
  static of(tenant: string): TenantScope {
    return new TenantScope(tenant);
  }

  private readonly prefix: string | null;

  /** Null for the system view. */
  private constructor(readonly tenant: string | null) {
    this.prefix = tenant === null || tenant === DEFAULT_TENANT ? null : `${TENANT_MARK}${tenant}/`;
  }

  get isSystem(): boolean {
    return this.tenant === null;
  }

  /** The catalog name for a name this caller sent; a tenant's caller cannot reach outside its tenant with `~`. */
  qualify(nameRef: string): string {
    if (this.tenant === null) return nameRef;
    if (nameRef.startsWith(TENANT_MARK)) {
      throw new InvalidInput(
        `Invalid model name "${nameRef.slice(0, 160)}": "~" is reserved for tenant prefixes`,
        { name: nameRef.slice(0, 160), reason: '"~" is reserved' },
        'invalid_model_name',
      );
    }
    return qualifiedName(this.tenant, nameRef);
  }

  /** True when a catalog name belongs to a tenant this caller sees. */
  ownsName(qualified: string): boolean {
    return this.tenant === null || tenantOfName(qualified) === this.tenant;
  }

  /** True when rows of this tenant (a tenant column) are visible to this caller. */
  ownsTenant(tenant: string): boolean {
    return this.tenant === null || tenant === this.tenant;
  }

  /** Text as this caller should read it: its own tenant prefix removed wherever a catalog name appears. */
  display(text: string): string {
    return this.prefix === null || !text.includes(this.prefix) ? text : text.replaceAll(this.prefix, '');
  }

  /** `display` applied to every string (keys included) of a JSON-like value; returns the value itself when nothing changes. */
  displayValue<T>(value: T): T {
    if (this.prefix === null) return value;
    return this.mapValue(value) as T;
  }

  private mapValue(value: unknown): unknown {
    if (typeof value === 'string') return this.display(value);
    if (Array.isArray(value)) return value.map((item) => this.mapValue(item));
    if (value === null || typeof value !== 'object') return value;
    if (value instanceof Date || Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
    const source = typeof (value as { toJSON?: unknown }).toJSON === 'function' ? (value as { toJSON(): unknown }).toJSON() : value;
    if (source !== value) return this.mapValue(source);
    const mapped: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) mapped[this.display(key)] = this.mapValue(item);
    return mapped;
  }
}
