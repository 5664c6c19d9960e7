// Derives the audit context (actor, request id) of a request, and records failed mutations.
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { recordAuditEvent, type ActionContext } from '../registry/audit.ts';
import { textBefore } from '../text-before.ts';

export function actionContext(request: FastifyRequest): ActionContext {
  return { actor: request.actor, requestId: String(request.id) };
}

/** The thing a failed mutation was aimed at: a path parameter, else the body's name (or model), else the path. */
function targetOf(request: FastifyRequest): string {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const body = (request.body ?? {}) as Record<string, unknown>;
  // Ollama's bodies name the model `model`, Hangar's `name`.
  const candidate = params.name ?? params.model ?? (typeof body === 'object' ? (body.name ?? body.model) : undefined);
  return typeof candidate === 'string' ? candidate.slice(0, 256) : textBefore(request.url, '?').slice(0, 256);
}

/** Writes an audit event for a mutation the domain refused (its own transaction rolled back, so nothing else was written). */
export function failedMutationRecorder(db: Kysely<Database>) {
  return async (request: FastifyRequest, code: string, message: string): Promise<void> => {
    const action = request.routeOptions.config?.audit;
    if (!action || code === 'validation_error') return;
    await recordAuditEvent(db, actionContext(request), {
      action,
      target: targetOf(request),
      outcome: 'failure',
      details: { code, message },
    });
  };
}
