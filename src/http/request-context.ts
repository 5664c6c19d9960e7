// Derives the audit context (actor, request id) of a request, and records failed mutations.
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { recordAuditEvent, type ActionContext } from '../registry/audit.ts';
import { textBefore } from '../text-before.ts';
import { TENANT_MARK } from '../tenants/tenant-names.ts';

export function actionContext(request: FastifyRequest): ActionContext {
  const tenant = request.scope.tenant;
  return tenant === null
    ? { actor: request.actor, requestId: String(request.id) }
    : { actor: request.actor, requestId: String(request.id), tenant };
}

/** The thing a failed mutation was aimed at: a path parameter, else the body's name (or model), else the path. */
function targetOf(request: FastifyRequest): string {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const body = (request.body ?? {}) as Record<string, unknown>;
  // Ollama's bodies name the model `model`, Hangar's `name`.
  const candidate = params.name ?? params.model ?? (typeof body === 'object' ? (body.name ?? body.model) : undefined);
  return typeof candidate === 'string' ? candidate.slice(0, 256) : textBefore(request.url, '?').slice(0, 256);
}

/**
 * Refusals not recorded here: the auth-failures plugin audits authentication failures itself, capped per address,
 * and a rate-limited client is refused before it reaches the domain. One row per such request would let anyone
 * fill the audit table.
 */
const AUDITED_ELSEWHERE = new Set(['unauthorized', 'auth_rate_limited', 'rate_limited']);

/** Writes an audit event for a mutation the domain refused (its own transaction rolled back, so nothing else was written). */
export function failedMutationRecorder(db: Kysely<Database>) {
  return async (request: FastifyRequest, code: string, message: string): Promise<void> => {
    const action = request.routeOptions.config?.audit;
    if (!action || code === 'validation_error' || AUDITED_ELSEWHERE.has(code)) return;
    const target = targetOf(request);
    // A tenant's caller sending `~other/…` is refused as bad input before any lookup: like a schema refusal it is not
    // recorded, so no tenant's log holds names of another tenant's models.
    if (target.startsWith(TENANT_MARK) && !request.scope.ownsName(target)) return;
    await recordAuditEvent(db, actionContext(request), {
      action,
      target,
      outcome: 'failure',
      details: { code, message },
    });
  };
}
