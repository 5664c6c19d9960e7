// Webhooks: subscriptions to bus events, delivered as signed JSON POSTs with persisted, restart-proof retries.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Logger } from 'pino';
import { Type, type Static } from 'typebox';
import { Nullable } from '../schemas/common.ts';
import type { Database } from '../db/schema.ts';
import { recordAuditEvent, type ActionContext } from './audit.ts';
import type { EventBus, HangarEvent } from './event-bus.ts';
import { InvalidInput, NotFound } from '../errors.ts';
import { redactUrl } from '../config/redact.ts';

// Table types live here, not in db/schema.ts: the webhook tables belong to this module (migration 005).
export interface WebhookTable {
  id: string;
  url: string;
  /** Clear text: every delivery is signed with it. */
  secret: string;
  /** JSON array of event types / `prefix.*` patterns / "*". */
  events: string;
  created_at: string;
  created_by: string;
  active: number;
}

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


/** An event type (`model.loaded`), a family (`model.*`) or everything (`*`). */
export const EventPattern = Type.String({ pattern: '^(\\*|[a-z][a-z0-9_-]*(\\.[a-z0-9_-]+)*(\\.\\*)?)$', maxLength: 128 });

export const CreateWebhookRequest = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL that receives the POSTs.' }),
    events: Type.Optional(Type.Array(EventPattern, { minItems: 1, maxItems: 64, description: 'Event types to send; `model.*` for a family; default ["*"].' })),
    secret: Type.Optional(Type.String({ minLength: 16, maxLength: 256, description: 'Signing secret; one is generated when left out.' })),
  },
  { additionalProperties: false },
);
export type CreateWebhookRequest = Static<typeof CreateWebhookRequest>;

export const WebhookInfo = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  active: Type.Boolean(),
  created_at: Type.String(),
  created_by: Type.String(),
});
export type WebhookInfo = Static<typeof WebhookInfo>;

export const CreatedWebhook = Type.Object({
  ...WebhookInfo.properties,
  secret: Type.String({ description: 'HMAC-SHA256 signing secret: shown in this reply only.' }),
});
export type CreatedWebhook = Static<typeof CreatedWebhook>;

export const DeliveryStatus = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]);
export type DeliveryStatus = Static<typeof DeliveryStatus>;

export const WebhookDelivery = Type.Object({
  id: Type.String(),
  webhook_id: Type.String(),
  event_id: Type.String(),
  event_type: Type.String(),
  status: DeliveryStatus,
  attempts: Type.Integer({ description: 'Attempts made so far.' }),
  last_status_code: Nullable(Type.Integer({ description: 'HTTP status of the last attempt; null when it got no response.' })),
  last_error: Nullable(Type.String()),
  next_attempt_at: Nullable(Type.String({ description: 'When a pending delivery is tried next.' })),
  created_at: Type.String(),
  delivered_at: Nullable(Type.String()),
});
export type WebhookDelivery = Static<typeof WebhookDelivery>;

export const WebhookOverview = Type.Object({ ...WebhookInfo.properties, recent_deliveries: Type.Array(WebhookDelivery) });
export type WebhookOverview = Static<typeof WebhookOverview>;

export interface WebhookServiceOptions {
  db: Kysely<Database>;
  bus: EventBus;
  logger: Logger;
  /** What sends the POSTs. Default: global fetch. */
  fetchImpl?: typeof fetch;
  /** Waits before each retry; after the last one fails the delivery is `failed`. Default: 1 s, 5 s, 30 s, 2 min, 10 min. */
  retryDelaysMs?: number[];
  /** Limit on one attempt (connect, send, response). Default: 10 000. */
  timeoutMs?: number;
  /** How often due retries are looked for in the database. Default: 1000. */
  pollIntervalMs?: number;
}

type AttemptOutcome =
  | { kind: 'delivered'; statusCode: number }
  | { kind: 'failed'; statusCode: number | null; error: string }
  /** Cut short by stop(): not counted, due again at the next start. */
  | { kind: 'interrupted' };

const DEFAULT_RETRY_DELAYS_MS = [1000, 5000, 30_000, 120_000, 600_000];
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_POLL_INTERVAL_MS = 1000;
/** Extra time a claimed attempt keeps others off its row, beyond its own timeout. */
const CLAIM_MARGIN_MS = 5000;
const POLL_BATCH = 50;
const ERROR_TEXT_LIMIT = 500;

const iso = (ms = Date.now()) => new Date(ms).toISOString();

export function signPayload(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Checks an `x-hangar-signature` header against the exact body bytes, in constant time. */
export function verifySignature(secret: string, body: string | Uint8Array, header: string | null | undefined): boolean {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '');
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(match[1], 'hex'));
}

export function eventMatches(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))));
}

function parseEvents(text: string): string[] {
  const parsed: unknown = JSON.parse(text);
  return Array.isArray(parsed) ? parsed.filter((p): p is string => typeof p === 'string') : [];
}

function toInfo(row: Selectable<WebhookTable>): WebhookInfo {
  return { id: row.id, url: row.url, events: parseEvents(row.events), active: Number(row.active) === 1, created_at: row.created_at, created_by: row.created_by };
}

function toDelivery(row: Selectable<WebhookDeliveryTable>): WebhookDelivery {
  const { payload: _payload, ...rest } = row;
  return { ...rest, status: row.status as DeliveryStatus, attempts: Number(row.attempts), last_status_code: row.last_status_code === null ? null : Number(row.last_status_code) };
}

function validateUrl(url: string): string {
  const parsed = URL.canParse(url) ? new URL(url) : null;
  if (parsed?.protocol === 'http:' || parsed?.protocol === 'https:') return parsed.toString();
  throw new InvalidInput(`url must be an absolute http:// or https:// URL, got "${url.slice(0, 100)}"`, { field: 'url' }, 'invalid_webhook_url');
}

function describeError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`.slice(0, ERROR_TEXT_LIMIT);
}

export class WebhookService {
  private readonly db: Kysely<WebhookDatabase>;
  private readonly fetchImpl: typeof fetch;
  private readonly retryDelaysMs: number[];
  private readonly timeoutMs: number;
  private readonly pollIntervalMs: number;
  private running = false;
  private stopSignal = new AbortController();
  private poller: NodeJS.Timeout | null = null;
  private polling = false;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** Delivery ids this instance is attempting now, so a poll does not claim them again. */
  private readonly attempting = new Set<string>();
  private readonly work = new Set<Promise<void>>();
  private readonly onEvent = (event: HangarEvent) => this.track(this.enqueue(event));

  constructor(private readonly o: WebhookServiceOptions) {
    this.db = o.db.withTables<WebhookTables>();
    this.fetchImpl = o.fetchImpl ?? fetch;
    this.retryDelaysMs = [...(o.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS)];
    if (this.retryDelaysMs.some((ms) => !Number.isFinite(ms) || ms < 0)) throw new Error('retryDelaysMs must be non-negative numbers');
    this.timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.pollIntervalMs = o.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  }

  /** Starts delivering bus events and resumes pending deliveries that are due (those a restart interrupted). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopSignal = new AbortController();
    this.o.bus.on('event', this.onEvent);
    this.poller = setInterval(() => this.pollDue(), this.pollIntervalMs);
    // Retries are persisted; the timer only finds them, it must not keep the process alive.
    this.poller.unref();
    this.pollDue();
  }

  /** Stops listening and retrying; attempts in flight are cut short and stay pending for the next start. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.o.bus.off('event', this.onEvent);
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    this.stopSignal.abort();
    while (this.work.size) await Promise.allSettled([...this.work]);
  }

  async create(input: CreateWebhookRequest, context: ActionContext): Promise<CreatedWebhook> {
    const url = validateUrl(input.url);
    const events = [...new Set(input.events ?? ['*'])];
    if (events.length === 0) throw new InvalidInput('events must name at least one event type, or "*"', { field: 'events' }, 'invalid_webhook_events');
    if (input.secret !== undefined && input.secret.length < 16) throw new InvalidInput('secret must be at least 16 characters', { field: 'secret' }, 'invalid_webhook_secret');
    const secret = input.secret ?? randomBytes(32).toString('hex');
    const row: WebhookTable = { id: randomUUID(), url, secret, events: JSON.stringify(events), created_at: iso(), created_by: context.actor, active: 1 };
    await this.o.db.transaction().execute(async (trx) => {
      await trx.withTables<WebhookTables>().insertInto('webhooks').values(row).execute();
      await recordAuditEvent(trx, context, { action: 'webhook.create', target: row.id, outcome: 'success', details: { url: redactUrl(url), events } });
    });
    return { ...toInfo(row), secret };
  }

  /** Every webhook, newest first, without secrets. */
  async list(): Promise<WebhookInfo[]> {
    const rows = await this.db.selectFrom('webhooks').selectAll().orderBy('created_at', 'desc').orderBy('id').execute();
    return rows.map(toInfo);
  }

  /** Every webhook with its newest deliveries, for the admin overview. */
  async overview(recentDeliveries = 20): Promise<WebhookOverview[]> {
    const hooks = await this.list();
    return Promise.all(hooks.map(async (hook) => ({ ...hook, recent_deliveries: await this.recentDeliveries(hook.id, recentDeliveries) })));
  }

  /** Deletes a webhook and its delivery history; pending retries stop. */
  async remove(id: string, context: ActionContext): Promise<WebhookInfo> {
    return this.o.db.transaction().execute(async (trx) => {
      const t = trx.withTables<WebhookTables>();
      const row = await t.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw new NotFound(`No webhook with id "${id}"`, { id }, 'webhook_not_found');
      await t.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
      await t.deleteFrom('webhooks').where('id', '=', id).execute();
      await recordAuditEvent(trx, context, { action: 'webhook.delete', target: id, outcome: 'success', details: { url: redactUrl(row.url) } });
      return toInfo(row);
    });
  }

  /** A webhook's deliveries, newest first. */
  async deliveries(webhookId: string, limit = 100): Promise<WebhookDelivery[]> {
    const hook = await this.db.selectFrom('webhooks').select('id').where('id', '=', webhookId).executeTakeFirst();
    if (!hook) throw new NotFound(`No webhook with id "${webhookId}"`, { id: webhookId }, 'webhook_not_found');
    return this.recentDeliveries(webhookId, limit);
  }

  private async recentDeliveries(webhookId: string, limit: number): Promise<WebhookDelivery[]> {
    const rows = await this.db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toDelivery);
  }

  /** Keeps background work findable so stop() can wait for it; its errors are logged, never thrown at the bus. */
  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.o.logger.error({ err: error }, 'webhook delivery work failed'));
    this.work.add(tracked);
    void tracked.finally(() => this.work.delete(tracked));
  }

  /** One pending delivery per matching active webhook, persisted before the first attempt so a crash cannot lose it. */
  private async enqueue(event: HangarEvent): Promise<void> {
    const hooks = await this.db.selectFrom('webhooks').select(['id', 'events']).where('active', '=', 1).execute();
    const matching = hooks.filter((hook) => eventMatches(parseEvents(hook.events), event.type));
    if (matching.length === 0) return;
    const payload = JSON.stringify({ id: event.id, type: event.type, model: event.model, version: event.version, at: event.at, data: event.data });
    await Promise.all(matching.map(async (hook) => {
      const now = iso();
      const delivery: WebhookDeliveryTable = {
        id: randomUUID(), webhook_id: hook.id, event_id: event.id, event_type: event.type, payload, status: 'pending', attempts: 0,
        last_status_code: null, last_error: null, next_attempt_at: now, created_at: now, delivered_at: null,
      };
      const queued = await this.db.insertInto('webhook_deliveries').values(delivery).execute().then(() => true, (error: unknown) => {
        // The webhook was deleted since it was read: nothing to deliver to.
        this.o.logger.debug({ err: error, webhook: hook.id }, 'webhook delivery not queued');
        return false;
      });
      if (queued) await this.attempt(delivery.id);
    }));
  }

  /** Looks for due pending deliveries: retries whose timer this process never set (a restart) or missed. */
  private pollDue(): void {
    if (this.polling || !this.running) return;
    this.polling = true;
    const due = this.db.selectFrom('webhook_deliveries').select('id').where('status', '=', 'pending').where('next_attempt_at', '<=', iso()).orderBy('next_attempt_at').limit(POLL_BATCH).execute();
    this.track(due.then((rows) => {
      for (const { id } of rows) if (!this.attempting.has(id)) this.track(this.attempt(id));
    }).finally(() => {
      this.polling = false;
    }));
  }

  private async attempt(deliveryId: string): Promise<void> {
    if (!this.running || this.attempting.has(deliveryId)) return;
    this.attempting.add(deliveryId);
    try {
      // Claim the row by pushing its due time past this attempt: another poller or instance skips it, and a crash frees it later.
      const now = Date.now();
      const claimed = await this.db.updateTable('webhook_deliveries').set({ next_attempt_at: iso(now + this.timeoutMs + CLAIM_MARGIN_MS) })
        .where('id', '=', deliveryId).where('status', '=', 'pending').where('next_attempt_at', '<=', iso(now)).executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 0) return;
      const row = await this.db.selectFrom('webhook_deliveries').innerJoin('webhooks', 'webhooks.id', 'webhook_deliveries.webhook_id')
        .select(['webhook_deliveries.payload', 'webhook_deliveries.event_type', 'webhook_deliveries.attempts', 'webhooks.url', 'webhooks.secret'])
        .where('webhook_deliveries.id', '=', deliveryId).executeTakeFirst();
      if (!row) return;
      const outcome = await this.send(deliveryId, row);
      await this.record(deliveryId, Number(row.attempts), outcome);
    } finally {
      this.attempting.delete(deliveryId);
    }
  }

  private async send(deliveryId: string, target: { url: string; secret: string; payload: string; event_type: string }): Promise<AttemptOutcome> {
    const stopped = this.stopSignal.signal;
    try {
      const response = await this.fetchImpl(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json', 'user-agent': 'Hangar-Webhooks', 'x-hangar-event': target.event_type,
          'x-hangar-delivery': deliveryId, 'x-hangar-signature': signPayload(target.secret, target.payload),
        },
        body: target.payload,
        // A redirect is the receiver's misconfiguration: report it rather than POST the event somewhere else.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), stopped]),
      });
      if (response.status >= 200 && response.status < 300) {
        await response.body?.cancel().catch(() => undefined);
        return { kind: 'delivered', statusCode: response.status };
      }
      const text = (await response.text().catch(() => '')).trim().slice(0, ERROR_TEXT_LIMIT);
      return { kind: 'failed', statusCode: response.status, error: `HTTP ${response.status}${text ? `: ${text}` : ''}` };
    } catch (error) {
      if (stopped.aborted) return { kind: 'interrupted' };
      return { kind: 'failed', statusCode: null, error: describeError(error, this.timeoutMs) };
    }
  }

  private async record(deliveryId: string, previousAttempts: number, outcome: AttemptOutcome): Promise<void> {
    const table = () => this.db.updateTable('webhook_deliveries').where('id', '=', deliveryId);
    if (outcome.kind === 'interrupted') {
      await table().set({ next_attempt_at: iso() }).execute();
      return;
    }
    const attempts = previousAttempts + 1;
    if (outcome.kind === 'delivered') {
      await table().set({ status: 'delivered', attempts, last_status_code: outcome.statusCode, last_error: null, next_attempt_at: null, delivered_at: iso() }).execute();
      return;
    }
    const delayMs = this.retryDelaysMs[attempts - 1];
    if (delayMs === undefined) {
      await table().set({ status: 'failed', attempts, last_status_code: outcome.statusCode, last_error: outcome.error, next_attempt_at: null }).execute();
      this.o.logger.warn({ delivery: deliveryId, attempts, error: outcome.error }, 'webhook delivery failed for good');
      return;
    }
    const dueAt = Date.now() + delayMs;
    await table().set({ attempts, last_status_code: outcome.statusCode, last_error: outcome.error, next_attempt_at: iso(dueAt) }).execute();
    this.scheduleRetry(deliveryId, dueAt);
  }

  /** A timer for punctual retries; the poller is the fallback when it is lost (stop, restart). */
  private scheduleRetry(deliveryId: string, dueAt: number): void {
    if (!this.running) return;
    // +1 ms: a timer may fire a hair early, and the claim only takes rows that are due.
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.track(this.attempt(deliveryId));
    }, Math.max(0, dueAt - Date.now()) + 1);
    timer.unref();
    this.retryTimers.add(timer);
  }
}
