// The audit log: one event per mutation, written in the same transaction as the change it records.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { AuditEventRow, Database } from '../db/schema.ts';
import { decodePageToken, encodePageToken } from './page-token.ts';
import { DEFAULT_TENANT, qualifiedName, TENANT_MARK, tenantOfName } from '../tenants/tenant-names.ts';

/** Who asked for a change and under which request; passed from HTTP/CLI into domain methods. */
export interface ActionContext {
  actor: string;
  requestId?: string;
  /** The caller's tenant; absent for a system caller (the target's tenant is used then). */
  tenant?: string;
}

export type AuditOutcome = 'success' | 'failure';

export interface AuditEventInput {
  action: string;
  target: string;
  outcome: AuditOutcome;
  details?: Record<string, unknown>;
  /** Whose log the event belongs to, when neither the target's name nor the caller says it. */
  tenant?: string;
}

export interface AuditEvent {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  outcome: AuditOutcome;
  request_id: string | null;
  details: Record<string, unknown>;
  /** Whose log it is in (see auditTenant). */
  tenant: string;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  target?: string;
  outcome?: AuditOutcome;
  /** Only this tenant's events; absent: every tenant's (a system caller). */
  tenant?: string;
  since?: string;
  until?: string;
  limit: number;
  pageToken?: string;
}

type Executor = Kysely<Database> | Transaction<Database>;

export const SYSTEM_ACTOR = 'system';

/** An event belongs to the log of the tenant named by the event, else the caller's tenant, else the tenant of a `~t/` target. */
function auditTenant(context: ActionContext, event: AuditEventInput): string {
  if (event.tenant) return event.tenant;
  // A tenant's caller writes only to its own log, whatever name it sent (a refused `~other/x` stays its own record).
  if (context.tenant) return context.tenant;
  if (event.target.startsWith(TENANT_MARK)) return tenantOfName(event.target);
  return DEFAULT_TENANT;
}

export async function recordAuditEvent(db: Executor, context: ActionContext, event: AuditEventInput): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      id: randomUUID(),
      tenant: auditTenant(context, event),
      at: new Date().toISOString(),
      actor: context.actor,
      action: event.action,
      target: event.target,
      outcome: event.outcome,
      request_id: context.requestId ?? null,
      details: JSON.stringify(event.details ?? {}),
    })
    .execute();
}

/**
 * The stored targets a filter means: as given, and within one tenant also qualified with it, since targets that
 * name a tenant's model are stored qualified (`~acme/bert:2`) while that tenant's callers know them as `bert:2`.
 */
function targetsMeant(target: string, tenant: string | undefined): string[] {
  if (tenant === undefined || target.startsWith(TENANT_MARK)) return [target];
  return [...new Set([target, qualifiedName(tenant, target)])];
}

function toAuditEvent(row: AuditEventRow): AuditEvent {
  return { ...row, outcome: row.outcome as AuditOutcome, details: JSON.parse(row.details) as Record<string, unknown> };
}

/** Newest first, keyset-paginated on (at, id). */
export async function listAuditEvents(db: Executor, query: AuditQuery): Promise<{ events: AuditEvent[]; next_page_token: string | null }> {
  let q = db.selectFrom('audit_events').selectAll();
  if (query.actor) q = q.where('actor', '=', query.actor);
  if (query.action) q = q.where('action', '=', query.action);
  if (query.target) q = q.where('target', 'in', targetsMeant(query.target, query.tenant));
  if (query.outcome) q = q.where('outcome', '=', query.outcome);
  if (query.tenant) q = q.where('tenant', '=', query.tenant);
  if (query.since) q = q.where('at', '>=', query.since);
  if (query.until) q = q.where('at', '<', query.until);
  if (query.pageToken) {
    const last = decodePageToken(query.pageToken, ['at', 'id'] as const);
    const at = String(last.at);
    const id = String(last.id);
    q = q.where((eb) => eb.or([eb('at', '<', at), eb.and([eb('at', '=', at), eb('id', '<', id)])]));
  }
  const rows = await q
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    events: page.map(toAuditEvent),
    next_page_token: rows.length > query.limit && last ? encodePageToken({ at: last.at, id: last.id }) : null,
  };
}
