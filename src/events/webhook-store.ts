// Webhook persistence: the two tables (migration 005) and the queries on them, each taking the database or a transaction first.
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { DeliveryStatus, WebhookDelivery, WebhookInfo } from '../schemas/webhooks.ts';

// Table types live here, not in db/schema.ts: the webhook tables belong to this module (migration 005).
export interface WebhookTable {
  id: string;
  url: string;
  /**
   * The signing secret, encrypted (SecretBox's `enc:v1:…` form, purpose WEBHOOK_SECRET_PURPOSE); rows written before
   * encryption hold clear text until the next start-up encrypts them (WebhookService.encryptStoredSecrets).
   */
  secret: string;
  /** JSON array of event types / `prefix.*` patterns / "*". */
  events: string;
  created_at: string;
  created_by: string;
  active: number;
  /** The tenant whose events it receives (migration 007), or SYSTEM_WEBHOOK_TENANT for every tenant's. */
  tenant: string;
}

/** webhooks.tenant of a system caller's webhook, which receives every tenant's events; never a tenant name (those have no `*`). */
export const SYSTEM_WEBHOOK_TENANT = '*';

export interface WebhookDeliveryTable {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  /** The exact body signed and sent, so every retry sends the same bytes. */
  payload: string;
  /** `pending` until a 2xx (`delivered`) or the last retry fails (`failed`). */
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  /** When a pending delivery is due; during an attempt, when its claim lapses. */
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
}

// A type alias, not an interface: Kysely's withTables<T>() needs the implicit index signature.
export type WebhookTables = {
  webhooks: WebhookTable;
  webhook_deliveries: WebhookDeliveryTable;
};

export type WebhookDatabase = Database & WebhookTables;

/** Authenticated with every stored webhook secret, so no other encrypted value can stand in for one. */
export const WEBHOOK_SECRET_PURPOSE = 'webhook.secret';

/** What one delivery attempt needs: the stored body and where and how to send it (`secret` as stored: encrypted). */
export interface DeliveryTarget {
  url: string;
  secret: string;
  payload: string;
  event_type: string;
  attempts: number;
}

/** The application database (or a transaction on it) seen with the webhook tables. */
export function withWebhookTables(db: Kysely<Database>): Kysely<WebhookDatabase> {
  return db.withTables<WebhookTables>();
}

function parseEvents(text: string): string[] {
  const parsed: unknown = JSON.parse(text);
  return Array.isArray(parsed) ? parsed.filter((p): p is string => typeof p === 'string') : [];
}

export function toWebhookInfo(row: Selectable<WebhookTable>): WebhookInfo {
  return {
    id: row.id,
    url: row.url,
    events: parseEvents(row.events),
    active: Number(row.active) === 1,
    created_at: row.created_at,
    created_by: row.created_by,
    tenant: row.tenant === SYSTEM_WEBHOOK_TENANT ? null : row.tenant,
  };
}

function toDelivery(row: Selectable<WebhookDeliveryTable>): WebhookDelivery {
  const { payload: _payload, ...rest } = row;
  return {
    ...rest,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    last_status_code: row.last_status_code === null ? null : Number(row.last_status_code),
  };
}

export async function insertWebhook(db: Kysely<WebhookDatabase>, row: WebhookTable): Promise<void> {
  await db.insertInto('webhooks').values(row).execute();
}

/** Every webhook (with `tenant`, that tenant's), newest first, without secrets. */
export async function listWebhooks(db: Kysely<WebhookDatabase>, tenant?: string): Promise<WebhookInfo[]> {
  let query = db.selectFrom('webhooks').selectAll();
  if (tenant !== undefined) query = query.where('tenant', '=', tenant);
  const rows = await query.orderBy('created_at', 'desc').orderBy('id').execute();
  return rows.map(toWebhookInfo);
}

export async function findWebhook(db: Kysely<WebhookDatabase>, id: string): Promise<Selectable<WebhookTable> | undefined> {
  return db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Deletes a webhook with its delivery history. */
export async function deleteWebhook(db: Kysely<WebhookDatabase>, id: string): Promise<void> {
  await db.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
  await db.deleteFrom('webhooks').where('id', '=', id).execute();
}

/** Active webhooks with the event patterns they subscribed to and whose events they receive. */
export async function activeSubscriptions(db: Kysely<WebhookDatabase>): Promise<Array<{ id: string; events: string[]; tenant: string }>> {
  const rows = await db.selectFrom('webhooks').select(['id', 'events', 'tenant']).where('active', '=', 1).execute();
  return rows.map((row) => ({ id: row.id, events: parseEvents(row.events), tenant: row.tenant }));
}

/** A webhook's deliveries, newest first. */
export async function recentDeliveries(db: Kysely<WebhookDatabase>, webhookId: string, limit: number): Promise<WebhookDelivery[]> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('webhook_id', '=', webhookId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toDelivery);
}

export async function insertDelivery(db: Kysely<WebhookDatabase>, delivery: WebhookDeliveryTable): Promise<void> {
  await db.insertInto('webhook_deliveries').values(delivery).execute();
}

/** Ids of pending deliveries due by `nowIso`, the longest-waiting first. */
export async function dueDeliveryIds(db: Kysely<WebhookDatabase>, nowIso: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', nowIso)
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}

/**
 * Claims a due pending delivery by pushing its due time to `claimUntilIso`: another poller or instance skips it,
 * and a crash frees it once the claim lapses. False when it was not due or not pending (someone else has it).
 */
export async function claimDelivery(db: Kysely<WebhookDatabase>, id: string, nowIso: string, claimUntilIso: string): Promise<boolean> {
  const claimed = await db
    .updateTable('webhook_deliveries')
    .set({ next_attempt_at: claimUntilIso })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', nowIso)
    .executeTakeFirst();
  return Number(claimed.numUpdatedRows) > 0;
}

export async function deliveryTarget(db: Kysely<WebhookDatabase>, id: string): Promise<DeliveryTarget | undefined> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .innerJoin('webhooks', 'webhooks.id', 'webhook_deliveries.webhook_id')
    .select([
      'webhook_deliveries.payload',
      'webhook_deliveries.event_type',
      'webhook_deliveries.attempts',
      'webhooks.url',
      'webhooks.secret',
    ])
    .where('webhook_deliveries.id', '=', id)
    .executeTakeFirst();
  return row ? { ...row, attempts: Number(row.attempts) } : undefined;
}

/** Sets fields of one delivery (the outcome of an attempt, or its release after an interrupted one). */
export async function updateDelivery(
  db: Kysely<WebhookDatabase>,
  id: string,
  fields: Partial<Omit<WebhookDeliveryTable, 'id'>>,
): Promise<void> {
  await db.updateTable('webhook_deliveries').set(fields).where('id', '=', id).execute();
}

/** Webhooks whose secret is still clear text (written before secrets were encrypted). */
export async function clearTextSecrets(db: Kysely<WebhookDatabase>): Promise<Array<{ id: string; secret: string }>> {
  return db.selectFrom('webhooks').select(['id', 'secret']).where('secret', 'not like', 'enc:v1:%').execute();
}

/** Replaces a webhook's secret only if it is still `expected`, so two instances encrypting at once do not clash. */
export async function replaceSecret(db: Kysely<WebhookDatabase>, id: string, expected: string, replacement: string): Promise<boolean> {
  const result = await db
    .updateTable('webhooks')
    .set({ secret: replacement })
    .where('id', '=', id)
    .where('secret', '=', expected)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
