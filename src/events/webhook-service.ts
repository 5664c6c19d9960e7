// Webhooks: subscriptions to bus events (create, list, delete, audited), delivered as signed JSON POSTs with persisted, restart-proof retries.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { recordAuditEvent, type ActionContext } from '../registry/audit.ts';
import { InvalidInput, NotFound } from '../errors.ts';
import { redactUrl } from '../config/redact.ts';
import type { CreatedWebhook, CreateWebhookRequest, WebhookDelivery, WebhookInfo, WebhookOverview } from '../schemas/webhooks.ts';
import { WebhookDeliveryWorker, type WebhookDeliveryOptions } from './webhook-delivery.ts';
import {
  deleteWebhook,
  findWebhook,
  insertWebhook,
  listWebhooks,
  recentDeliveries,
  toWebhookInfo,
  withWebhookTables,
  type WebhookDatabase,
  type WebhookTable,
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
      secret,
      events: JSON.stringify(events),
      created_at: new Date().toISOString(),
      created_by: context.actor,
      active: 1,
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

  /** Every webhook, newest first, without secrets. */
  async list(): Promise<WebhookInfo[]> {
    return listWebhooks(this.db);
  }

  /** Every webhook with its newest deliveries, for the admin overview. */
  async overview(recentDeliveryCount = 20): Promise<WebhookOverview[]> {
    const hooks = await this.list();
    return Promise.all(
      hooks.map(async (hook) => ({ ...hook, recent_deliveries: await recentDeliveries(this.db, hook.id, recentDeliveryCount) })),
    );
  }

  /** Deletes a webhook and its delivery history; pending retries stop. */
  async remove(id: string, context: ActionContext): Promise<WebhookInfo> {
    return this.o.db.transaction().execute(async (trx) => {
      const t = withWebhookTables(trx);
      const row = await findWebhook(t, id);
      if (!row) throw new NotFound(`No webhook with id "${id}"`, { id }, 'webhook_not_found');
      await deleteWebhook(t, id);
      await recordAuditEvent(trx, context, {
        action: 'webhook.delete',
        target: id,
        outcome: 'success',
        details: { url: redactUrl(row.url) },
      });
      return toWebhookInfo(row);
    });
  }

  /** A webhook's deliveries, newest first. */
  async deliveries(webhookId: string, limit = 100): Promise<WebhookDelivery[]> {
    if (!(await findWebhook(this.db, webhookId)))
      throw new NotFound(`No webhook with id "${webhookId}"`, { id: webhookId }, 'webhook_not_found');
    return recentDeliveries(this.db, webhookId, limit);
  }
}
