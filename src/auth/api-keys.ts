// API keys: created with a name, role, tenant (none: a system key) and optional expiry, shown once, stored only as a salted hash, checked in constant time, rotated with a grace period.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ApiKeyTable, Database } from '../db/schema.ts';
import { recordAuditEvent, type ActionContext } from '../registry/audit.ts';
import { Conflict, HangarError, InvalidInput, NotFound } from '../errors.ts';
import type { TenantScope } from '../tenants/tenant-scope.ts';
import { tenantNotFound } from '../tenants/tenant-names.ts';
import { isRole, type Role } from './roles.ts';

/** `hgr_<id>_<secret>`: the id finds the row without scanning, the 256-bit secret is what is hashed. */
const KEY_PATTERN = /^hgr_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyInfo {
  id: string;
  name: string;
  role: Role;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  /** The tenant the key acts in; null for a system key (every tenant, system-wide settings). */
  tenant: string | null;
  rotated_at: string | null;
  /** Until when the secret before the last rotation still works. */
  previous_valid_until: string | null;
}

export interface CreatedKey extends ApiKeyInfo {
  /** The key itself: shown this once, never stored. */
  key: string;
}

export interface Principal {
  name: string;
  role: Role;
  keyId: string | null;
  /** Null for a system key (and HANGAR_ADMIN_KEY). */
  tenant: string | null;
}

/** How long the old secret keeps working after a rotation unless the request says otherwise. */
export const DEFAULT_ROTATION_GRACE_SECONDS = 24 * 3600;
export const MAX_ROTATION_GRACE_SECONDS = 30 * 24 * 3600;

function newKeyId(): string {
  return randomBytes(10)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0')
    .slice(0, 16)
    .padEnd(16, '0');
}

function matches(salt: string, hash: string, secret: string): boolean {
  return timingSafeEqual(Buffer.from(hashSecret(salt, secret), 'hex'), Buffer.from(hash, 'hex'));
}

/** Random secrets carry 256 bits, so a fast salted hash is safe; a slow KDF would only slow every request. */
function hashSecret(salt: string, secret: string): string {
  return createHash('sha256').update(salt).update(':').update(secret).digest('hex');
}

function toInfo(row: ApiKeyTable): ApiKeyInfo {
  return {
    id: row.id,
    name: row.name,
    role: row.role as Role,
    created_at: row.created_at,
    created_by: row.created_by,
    expires_at: row.expires_at,
    revoked_at: row.revoked_at,
    last_used_at: row.last_used_at,
    tenant: row.tenant,
    rotated_at: row.rotated_at,
    previous_valid_until: row.previous_valid_until,
  };
}

export interface CreateKeyInput {
  name: string;
  role: string;
  /** ISO time after which the key stops working. */
  expires_at?: string;
  /** The tenant the key acts in; omitted: the caller's tenant (a system caller then makes a system key). */
  tenant?: string;
}

/** A tenant's caller reaching for a key outside its tenant is told the key does not exist. */
function keyNotFound(idOrName: string): NotFound {
  return new NotFound(`No API key with id or name "${idOrName}"`, { key: idOrName }, 'key_not_found');
}

export class ApiKeyService {
  /** The bootstrap key from HANGAR_ADMIN_KEY, kept only as a hash in memory. */
  private readonly adminKey: { salt: string; hash: string } | null;
  private readonly lastUsedWrites = new Map<string, number>();

  constructor(
    private readonly db: Kysely<Database>,
    adminKey?: string,
  ) {
    const salt = randomBytes(16).toString('hex');
    this.adminKey = adminKey ? { salt, hash: hashSecret(salt, adminKey) } : null;
  }

  /**
   * Creates a key. A tenant's admin makes keys of its own tenant only; a system admin makes system keys or, naming
   * `tenant`, keys of that tenant (which must exist).
   */
  async create(input: CreateKeyInput, context: ActionContext, scope: TenantScope): Promise<CreatedKey> {
    const tenant = input.tenant ?? scope.tenant;
    if (!scope.isSystem && tenant !== scope.tenant) {
      throw new HangarError('forbidden', `A key of tenant "${scope.tenant}" can only make keys of that tenant`, {
        tenant: scope.tenant,
      });
    }
    if (!isRole(input.role))
      throw new InvalidInput(`role must be viewer, operator or admin, got "${input.role}"`, { field: 'role' }, 'invalid_role');
    if (input.expires_at !== undefined && !(Date.parse(input.expires_at) > Date.now())) {
      throw new InvalidInput('expires_at must be a time in the future', { field: 'expires_at' }, 'invalid_expiry');
    }
    const id = newKeyId();
    const secret = randomBytes(32).toString('base64url');
    const salt = randomBytes(16).toString('hex');
    const now = new Date().toISOString();
    const row: ApiKeyTable = {
      id,
      name: input.name,
      role: input.role,
      salt,
      hash: hashSecret(salt, secret),
      created_at: now,
      created_by: context.actor,
      expires_at: input.expires_at ? new Date(input.expires_at).toISOString() : null,
      revoked_at: null,
      last_used_at: null,
      tenant,
      previous_salt: null,
      previous_hash: null,
      previous_valid_until: null,
      rotated_at: null,
    };
    await this.db.transaction().execute(async (trx) => {
      if (tenant !== null) {
        const known = await trx.selectFrom('tenants').select('name').where('name', '=', tenant).executeTakeFirst();
        if (!known) throw tenantNotFound(tenant);
      }
      const active = await trx
        .selectFrom('api_keys')
        .select('id')
        .where('name', '=', input.name)
        .where((eb) => (tenant === null ? eb('tenant', 'is', null) : eb('tenant', '=', tenant)))
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (active)
        throw new Conflict(
          `An active key named "${input.name}" exists; revoke it first or pick another name`,
          { name: input.name },
          'key_exists',
        );
      await trx.insertInto('api_keys').values(row).execute();
      await recordAuditEvent(trx, context, {
        action: 'key.create',
        target: input.name,
        outcome: 'success',
        details: { id, role: input.role, expires_at: row.expires_at, tenant },
        tenant: tenant ?? undefined,
      });
    });
    return { ...toInfo(row), key: `hgr_${id}_${secret}` };
  }

  /** The keys a caller may see: its tenant's, or every key for a system caller. */
  async list(scope: TenantScope): Promise<ApiKeyInfo[]> {
    let query = this.db.selectFrom('api_keys').selectAll();
    if (scope.tenant !== null) query = query.where('tenant', '=', scope.tenant);
    const rows = await query.orderBy('created_at', 'desc').execute();
    return rows.map(toInfo);
  }

  /** The key row by id, or the active key of that name, within what the caller sees. */
  private async findKey(db: Kysely<Database>, idOrName: string, scope: TenantScope): Promise<ApiKeyTable> {
    const row =
      (await db.selectFrom('api_keys').selectAll().where('id', '=', idOrName).executeTakeFirst()) ??
      (await db
        .selectFrom('api_keys')
        .selectAll()
        .where('name', '=', idOrName)
        .where('revoked_at', 'is', null)
        .where((eb) => (scope.tenant === null ? eb.lit(true) : eb('tenant', '=', scope.tenant)))
        // A system caller naming a key means its own system key first, then the newest of that name in a tenant.
        .orderBy((eb) => eb.case().when('tenant', 'is', null).then(0).else(1).end())
        .orderBy('created_at', 'desc')
        .executeTakeFirst());
    if (!row || (scope.tenant !== null && row.tenant !== scope.tenant)) throw keyNotFound(idOrName);
    return row;
  }

  /** Revokes by id or by name (the active key of that name). Idempotent for already revoked keys. */
  async revoke(idOrName: string, context: ActionContext, scope: TenantScope): Promise<ApiKeyInfo> {
    return this.db.transaction().execute(async (trx) => {
      const row = await this.findKey(trx, idOrName, scope);
      if (row.revoked_at) return toInfo(row);
      const revokedAt = new Date().toISOString();
      await trx.updateTable('api_keys').set({ revoked_at: revokedAt }).where('id', '=', row.id).execute();
      await recordAuditEvent(trx, context, {
        action: 'key.revoke',
        target: row.name,
        outcome: 'success',
        details: { id: row.id },
        tenant: row.tenant ?? undefined,
      });
      return toInfo({ ...row, revoked_at: revokedAt });
    });
  }

  /**
   * Gives a key a new secret (the same id, name, role and tenant); the old secret keeps working for
   * `graceSeconds` so clients can switch without an outage. The new key is in this reply only.
   */
  async rotate(idOrName: string, graceSeconds: number, context: ActionContext, scope: TenantScope): Promise<CreatedKey> {
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_ROTATION_GRACE_SECONDS) {
      throw new InvalidInput(`grace_seconds must be an integer from 0 to ${MAX_ROTATION_GRACE_SECONDS}`, { field: 'grace_seconds' });
    }
    return this.db.transaction().execute(async (trx) => {
      const row = await this.findKey(trx, idOrName, scope);
      if (row.revoked_at || (row.expires_at && Date.parse(row.expires_at) <= Date.now())) {
        throw new Conflict(`The key "${row.name}" is revoked or expired; create a new one`, { id: row.id }, 'conflict');
      }
      const secret = randomBytes(32).toString('base64url');
      const salt = randomBytes(16).toString('hex');
      const now = new Date();
      const update = {
        salt,
        hash: hashSecret(salt, secret),
        previous_salt: graceSeconds > 0 ? row.salt : null,
        previous_hash: graceSeconds > 0 ? row.hash : null,
        previous_valid_until: graceSeconds > 0 ? new Date(now.getTime() + graceSeconds * 1000).toISOString() : null,
        rotated_at: now.toISOString(),
      };
      await trx.updateTable('api_keys').set(update).where('id', '=', row.id).execute();
      await recordAuditEvent(trx, context, {
        action: 'key.rotate',
        target: row.name,
        outcome: 'success',
        details: { id: row.id, grace_seconds: graceSeconds },
        tenant: row.tenant ?? undefined,
      });
      return { ...toInfo({ ...row, ...update }), key: `hgr_${row.id}_${secret}` };
    });
  }

  /** The principal a presented key stands for, or null when it is unknown, revoked or expired. */
  async verify(presented: string): Promise<Principal | null> {
    if (this.adminKey) {
      const hash = Buffer.from(hashSecret(this.adminKey.salt, presented), 'hex');
      if (timingSafeEqual(hash, Buffer.from(this.adminKey.hash, 'hex')))
        return { name: 'admin (HANGAR_ADMIN_KEY)', role: 'admin', keyId: null, tenant: null };
    }
    const [, id, secret] = KEY_PATTERN.exec(presented) ?? [];
    if (id === undefined || secret === undefined) return null;
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    const current = matches(row.salt, row.hash, secret);
    const previous =
      !current &&
      row.previous_salt !== null &&
      row.previous_hash !== null &&
      row.previous_valid_until !== null &&
      Date.parse(row.previous_valid_until) > Date.now() &&
      matches(row.previous_salt, row.previous_hash, secret);
    if (!(current || previous) || row.revoked_at || (row.expires_at && Date.parse(row.expires_at) <= Date.now())) return null;
    this.touch(row.id);
    return { name: row.name, role: row.role as Role, keyId: row.id, tenant: row.tenant };
  }

  /** Records last use at most once a minute per key, off the request's path. */
  private touch(id: string): void {
    const now = Date.now();
    if ((this.lastUsedWrites.get(id) ?? 0) > now - 60_000) return;
    this.lastUsedWrites.set(id, now);
    void this.db
      .updateTable('api_keys')
      .set({ last_used_at: new Date(now).toISOString() })
      .where('id', '=', id)
      .execute()
      .catch(() => undefined);
  }
}
