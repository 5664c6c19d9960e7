// The webhook delivery worker: queues a delivery per matching webhook for each bus event, POSTs it signed, retries with back-off.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { EventBus } from './event-bus.ts';
import type { HangarEvent } from './event-types.ts';
import { eventMatches } from './event-filter.ts';
import { eventSeenBy, eventTenant } from './event-scope.ts';
import { TenantScope } from '../tenants/tenant-scope.ts';
import { signPayload } from './webhook-signing.ts';
import { SecretBox } from '../security/secret-box.ts';
import {
  activeSubscriptions,
  claimDelivery,
  deliveryTarget,
  dueDeliveryIds,
  insertDelivery,
  updateDelivery,
  SYSTEM_WEBHOOK_TENANT,
  type DeliveryTarget,
  type WebhookDatabase,
  type WebhookDeliveryTable,
  WEBHOOK_SECRET_PURPOSE,
} from './webhook-store.ts';

export interface WebhookDeliveryOptions {
  db: Kysely<WebhookDatabase>;
  bus: EventBus;
  logger: Logger;
  /** Decrypts the stored signing secrets (and encrypts new ones). */
  secrets: SecretBox;
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

/** The JSON body of a delivery: the event's public fields. */
function payloadOf(event: HangarEvent): Record<string, unknown> {
  return { id: event.id, type: event.type, model: event.model, version: event.version, at: event.at, data: event.data };
}

/** The body a tenant's webhook receives: the event as that tenant may read it, its models named without the prefix. */
function tenantPayload(tenant: string, event: HangarEvent): string {
  return JSON.stringify(TenantScope.of(tenant).displayValue(payloadOf(eventSeenBy(tenant, event))));
}

const iso = (ms = Date.now()) => new Date(ms).toISOString();

function describeError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`.slice(0, ERROR_TEXT_LIMIT);
}

export class WebhookDeliveryWorker {
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

  constructor(private readonly o: WebhookDeliveryOptions) {
    this.db = o.db;
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

  /** Keeps background work findable so stop() can wait for it; its errors are logged, never thrown at the bus. */
  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.o.logger.error({ err: error }, 'webhook delivery work failed'));
    this.work.add(tracked);
    void tracked.finally(() => this.work.delete(tracked));
  }

  /**
   * One pending delivery per matching active webhook, persisted before the first attempt so a crash cannot lose it.
   * A tenant's webhook matches only its tenant's events and reads its models' names without the tenant prefix.
   */
  private async enqueue(event: HangarEvent): Promise<void> {
    const hooks = await activeSubscriptions(this.db);
    const owner = eventTenant(event);
    const matching = hooks.filter(
      (hook) => (hook.tenant === SYSTEM_WEBHOOK_TENANT || hook.tenant === owner) && eventMatches(hook.events, event.type),
    );
    if (matching.length === 0) return;
    const systemPayload = JSON.stringify(payloadOf(event));
    await Promise.all(
      matching.map(async (hook) => {
        const payload = hook.tenant === SYSTEM_WEBHOOK_TENANT ? systemPayload : tenantPayload(hook.tenant, event);
        const now = iso();
        const delivery: WebhookDeliveryTable = {
          id: randomUUID(),
          webhook_id: hook.id,
          event_id: event.id,
          event_type: event.type,
          payload,
          status: 'pending',
          attempts: 0,
          last_status_code: null,
          last_error: null,
          next_attempt_at: now,
          created_at: now,
          delivered_at: null,
        };
        const queued = await insertDelivery(this.db, delivery).then(
          () => true,
          (error: unknown) => {
            // The webhook was deleted since it was read: nothing to deliver to.
            this.o.logger.debug({ err: error, webhook: hook.id }, 'webhook delivery not queued');
            return false;
          },
        );
        if (queued) await this.attempt(delivery.id);
      }),
    );
  }

  /** Looks for due pending deliveries: retries whose timer this process never set (a restart) or missed. */
  private pollDue(): void {
    if (this.polling || !this.running) return;
    this.polling = true;
    const due = dueDeliveryIds(this.db, iso(), POLL_BATCH);
    this.track(
      due
        .then((ids) => {
          for (const id of ids) if (!this.attempting.has(id)) this.track(this.attempt(id));
        })
        .finally(() => {
          this.polling = false;
        }),
    );
  }

  private async attempt(deliveryId: string): Promise<void> {
    if (!this.running || this.attempting.has(deliveryId)) return;
    this.attempting.add(deliveryId);
    try {
      const now = Date.now();
      if (!(await claimDelivery(this.db, deliveryId, iso(now), iso(now + this.timeoutMs + CLAIM_MARGIN_MS)))) return;
      const target = await deliveryTarget(this.db, deliveryId);
      if (!target) return;
      const outcome = await this.send(deliveryId, target);
      await this.record(deliveryId, target.attempts, outcome);
    } finally {
      this.attempting.delete(deliveryId);
    }
  }

  /** The clear-text signing secret; a row still in clear text (an older instance on the same database wrote it) is used as it is. */
  private signingSecret(stored: string): string {
    return SecretBox.isEncrypted(stored) ? this.o.secrets.decrypt(stored, WEBHOOK_SECRET_PURPOSE) : stored;
  }

  private async send(deliveryId: string, target: DeliveryTarget): Promise<AttemptOutcome> {
    const stopped = this.stopSignal.signal;
    let secret: string;
    try {
      secret = this.signingSecret(target.secret);
    } catch (error) {
      return {
        kind: 'failed',
        statusCode: null,
        error: `cannot decrypt the signing secret: ${(error as Error).message}`.slice(0, ERROR_TEXT_LIMIT),
      };
    }
    try {
      const response = await this.fetchImpl(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Hangar-Webhooks',
          'x-hangar-event': target.event_type,
          'x-hangar-delivery': deliveryId,
          'x-hangar-signature': signPayload(secret, target.payload),
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
    if (outcome.kind === 'interrupted') {
      await updateDelivery(this.db, deliveryId, { next_attempt_at: iso() });
      return;
    }
    const attempts = previousAttempts + 1;
    if (outcome.kind === 'delivered') {
      await updateDelivery(this.db, deliveryId, {
        status: 'delivered',
        attempts,
        last_status_code: outcome.statusCode,
        last_error: null,
        next_attempt_at: null,
        delivered_at: iso(),
      });
      return;
    }
    const delayMs = this.retryDelaysMs[attempts - 1];
    if (delayMs === undefined) {
      await updateDelivery(this.db, deliveryId, {
        status: 'failed',
        attempts,
        last_status_code: outcome.statusCode,
        last_error: outcome.error,
        next_attempt_at: null,
      });
      this.o.logger.warn({ delivery: deliveryId, attempts, error: outcome.error }, 'webhook delivery failed for good');
      return;
    }
    const dueAt = Date.now() + delayMs;
    await updateDelivery(this.db, deliveryId, {
      attempts,
      last_status_code: outcome.statusCode,
      last_error: outcome.error,
      next_attempt_at: iso(dueAt),
    });
    this.scheduleRetry(deliveryId, dueAt);
  }

  /** A timer for punctual retries; the poller is the fallback when it is lost (stop, restart). */
  private scheduleRetry(deliveryId: string, dueAt: number): void {
    if (!this.running) return;
    // +1 ms: a timer may fire a hair early, and the claim only takes rows that are due.
    const timer = setTimeout(
      () => {
        this.retryTimers.delete(timer);
        this.track(this.attempt(deliveryId));
      },
      Math.max(0, dueAt - Date.now()) + 1,
    );
    timer.unref();
    this.retryTimers.add(timer);
  }
}
