// Webhooks: subscriptions to bus events (create, list, delete, audited; secrets encrypted at rest), delivered as signed JSON POSTs with persisted, restart-proof retries.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { recordAuditEvent, type ActionContext } from '../registry/audit.ts';
import { InvalidInput, NotFound } from '../errors.ts';
import { redactUrl } from '../config/redact.ts';
import type { CreatedWebhook, CreateWebhookRequest, WebhookDelivery, WebhookInfo, WebhookOverview } from '../schemas/webhooks.ts';
import { WebhookDeliveryWorker, type WebhookDeliveryOptions } from './webhook-delivery.ts';
import {
  clearTextSecrets,
  deleteWebhook,
  findWebhook,
  insertWebhook,
  listWebhooks,
  recentDeliveries,
  replaceSecret,
  SYSTEM_WEBHOOK_TENANT,
  toWebhookInfo,
  withWebhookTables,
  type WebhookDatabase,
  type WebhookTable,
  WEBHOOK_SECRET_PURPOSE,
} from './webhook-store.ts';

export type WebhookServiceOptions = Omit<WebhookDeliveryOptions, 'db'> & { db: Kysely<Database> };

function validateUrl(url: string): string {
  const parsed = URL.canParse(url) ? new URL(url) : null;
  if (parsed?.protocol === 'http:' || parsed?.protocol === 'https:') return parsed.toString();
  throw new InvalidInput(
    `url must be an absolute http:// or https:// URL, got "${url.slice(0, 100)}"`,
    { field: 'url' },
    'invalid_webhook_url',
  );
}

/** Another tenant's webhook is reported exactly as a missing one. */
function webhookNotFound(id: string): NotFound {
  return new NotFound(`No webhook with id "${id}"`, { id }, 'webhook_not_found');
}

/** A system caller (no tenant) reaches every webhook, a tenant's caller its tenant's only. */
function visibleTo(row: { tenant: string }, tenant: string | undefined): boolean {
  return tenant === undefined || row.tenant === tenant;
}

export class WebhookService {
  private readonly db: Kysely<WebhookDatabase>;
  private readonly worker: WebhookDeliveryWorker;

  constructor(private readonly o: WebhookServiceOptions) {
    this.db = withWebhookTables(o.db);
    this.worker = new WebhookDeliveryWorker({ ...o, db: this.db });
  }

  /** Starts delivering bus events and resumes pending deliveries that are due (those a restart interrupted). */
  start(): void {
    this.worker.start();
  }

  /**
   * Encrypts secrets stored in clear text (rows from before encryption); rows already encrypted are left alone,
   * so it is safe on every start. Resolves to how many it encrypted.
   */
  async encryptStoredSecrets(): Promise<number> {
    let encrypted = 0;
    for (const row of await clearTextSecrets(this.db)) {
      const sealed = this.o.secrets.encrypt(row.secret, WEBHOOK_SECRET_PURPOSE);
      if (await replaceSecret(this.db, row.id, row.secret, sealed)) encrypted++;
    }
    return encrypted;
  }

  /** Stops listening and retrying; attempts in flight are cut short and stay pending for the next start. */
  stop(): Promise<void> {
    return this.worker.stop();
  }

  async create(input: CreateWebhookRequest, context: ActionContext): Promise<CreatedWebhook> {
    const url = validateUrl(input.url);
    const events = [...new Set(input.events ?? ['*'])];
    if (events.length === 0)
      throw new InvalidInput('events must name at least one event type, or "*"', { field: 'events' }, 'invalid_webhook_events');
    if (input.secret !== undefined && input.secret.length < 16)
      throw new InvalidInput('secret must be at least 16 characters', { field: 'secret' }, 'invalid_webhook_secret');
    const secret = input.secret ?? randomBytes(32).toString('hex');
    const row: WebhookTable = {
      id: randomUUID(),
      url,
      secret: this.o.secrets.encrypt(secret, WEBHOOK_SECRET_PURPOSE),
      events: JSON.stringify(events),
      created_at: new Date().toISOString(),
      created_by: context.actor,
      active: 1,
      // A tenant's caller subscribes to its tenant's events; a system caller's webhook gets every tenant's.
      tenant: context.tenant ?? SYSTEM_WEBHOOK_TENANT,
    };
    await this.o.db.transaction().execute(async (trx) => {
      await insertWebhook(withWebhookTables(trx), row);
      await recordAuditEvent(trx, context, {
        action: 'webhook.create',
        target: row.id,
        outcome: 'success',
        details: { url: redactUrl(url), events },
      });
    });
    return { ...toWebhookInfo(row), secret };
  }

  /** Every webhook (with `tenant`, that tenant's caller's: its tenant's only), newest first, without secrets. */
  async list(tenant?: string): Promise<WebhookInfo[]> {
    return listWebhooks(this.db, tenant);
  }

  /** Every webhook (with `tenant`, that tenant's) with its newest deliveries, for the admin overview. */
  async overview(recentDeliveryCount = 20, tenant?: string): Promise<WebhookOverview[]> {
    const hooks = await this.list(tenant);
    return Promise.all(
      hooks.map(async (hook) => ({ ...hook, recent_deliveries: await recentDeliveries(this.db, hook.id, recentDeliveryCount) })),
    );
  }

  /** Deletes a webhook and its delivery history; pending retries stop. */
  async remove(id: string, context: ActionContext): Promise<WebhookInfo> {
    return this.o.db.transaction().execute(async (trx) => {
      const t = withWebhookTables(trx);
      const row = await findWebhook(t, id);
      if (!row || !visibleTo(row, context.tenant)) throw webhookNotFound(id);
      await deleteWebhook(t, id);
      await recordAuditEvent(trx, context, {
        action: 'webhook.delete',
        target: id,
        outcome: 'success',
        details: { url: redactUrl(row.url) },
        // In the log of the tenant that owned it, also when a system caller deletes it.
        ...(row.tenant === SYSTEM_WEBHOOK_TENANT ? {} : { tenant: row.tenant }),
      });
      return toWebhookInfo(row);
    });
  }

  /** A webhook's deliveries, newest first; with `tenant`, only of that tenant's webhooks. */
  async deliveries(webhookId: string, limit = 100, tenant?: string): Promise<WebhookDelivery[]> {
    const row = await findWebhook(this.db, webhookId);
    if (!row || !visibleTo(row, tenant)) throw webhookNotFound(webhookId);
    return recentDeliveries(this.db, webhookId, limit);
  }
}
