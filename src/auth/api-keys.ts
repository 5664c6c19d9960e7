// API keys: created with a name, role and optional expiry, shown once, stored only as a salted hash, checked in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ApiKeyTable, Database } from '../db/schema.ts';
import { recordAuditEvent, type ActionContext } from '../registry/audit.ts';
import { Conflict, InvalidInput, NotFound } from '../errors.ts';
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
}

export interface CreatedKey extends ApiKeyInfo {
  /** The key itself: shown this once, never stored. */
  key: string;
}

export interface Principal {
  name: string;
  role: Role;
  keyId: string | null;
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
  };
}

export interface CreateKeyInput {
  name: string;
  role: string;
  /** ISO time after which the key stops working. */
  expires_at?: string;
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

  async create(input: CreateKeyInput, context: ActionContext): Promise<CreatedKey> {
    if (!isRole(input.role))
      throw new InvalidInput(`role must be viewer, operator or admin, got "${input.role}"`, { field: 'role' }, 'invalid_role');
    if (input.expires_at !== undefined && !(Date.parse(input.expires_at) > Date.now())) {
      throw new InvalidInput('expires_at must be a time in the future', { field: 'expires_at' }, 'invalid_expiry');
    }
    const id = randomBytes(10)
      .toString('base64url')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '0')
      .slice(0, 16)
      .padEnd(16, '0');
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
    };
    await this.db.transaction().execute(async (trx) => {
      const active = await trx
        .selectFrom('api_keys')
        .select('id')
        .where('name', '=', input.name)
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
        details: { id, role: input.role, expires_at: row.expires_at },
      });
    });
    return { ...toInfo(row), key: `hgr_${id}_${secret}` };
  }

  async list(): Promise<ApiKeyInfo[]> {
    const rows = await this.db.selectFrom('api_keys').selectAll().orderBy('created_at', 'desc').execute();
    return rows.map(toInfo);
  }

  /** Revokes by id or by name (the active key of that name). Idempotent for already revoked keys. */
  async revoke(idOrName: string, context: ActionContext): Promise<ApiKeyInfo> {
    return this.db.transaction().execute(async (trx) => {
      const row =
        (await trx.selectFrom('api_keys').selectAll().where('id', '=', idOrName).executeTakeFirst()) ??
        (await trx.selectFrom('api_keys').selectAll().where('name', '=', idOrName).where('revoked_at', 'is', null).executeTakeFirst());
      if (!row) throw new NotFound(`No API key with id or name "${idOrName}"`, { key: idOrName }, 'key_not_found');
      if (row.revoked_at) return toInfo(row);
      const revokedAt = new Date().toISOString();
      await trx.updateTable('api_keys').set({ revoked_at: revokedAt }).where('id', '=', row.id).execute();
      await recordAuditEvent(trx, context, { action: 'key.revoke', target: row.name, outcome: 'success', details: { id: row.id } });
      return toInfo({ ...row, revoked_at: revokedAt });
    });
  }

  /** The principal a presented key stands for, or null when it is unknown, revoked or expired. */
  async verify(presented: string): Promise<Principal | null> {
    if (this.adminKey) {
      const hash = Buffer.from(hashSecret(this.adminKey.salt, presented), 'hex');
      if (timingSafeEqual(hash, Buffer.from(this.adminKey.hash, 'hex')))
        return { name: 'admin (HANGAR_ADMIN_KEY)', role: 'admin', keyId: null };
    }
    const [, id, secret] = KEY_PATTERN.exec(presented) ?? [];
    if (id === undefined || secret === undefined) return null;
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    const ok = timingSafeEqual(Buffer.from(hashSecret(row.salt, secret), 'hex'), Buffer.from(row.hash, 'hex'));
    if (!ok || row.revoked_at || (row.expires_at && Date.parse(row.expires_at) <= Date.now())) return null;
    this.touch(row.id);
    return { name: row.name, role: row.role as Role, keyId: row.id };
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
