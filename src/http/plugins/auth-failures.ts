// Failed authentications: audited per client address (capped, never the key), and an address over the limit refused with 429.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Settings } from '../../config/settings.ts';
import { HangarError } from '../../errors.ts';
import { recordAuditEvent } from '../../registry/audit.ts';
import { AuthFailureWindows, type FailureVerdict } from '../../security/auth-failure-windows.ts';
import { textBefore } from '../../text-before.ts';

export interface AuthFailuresOptions {
  settings: Settings;
  db: Kysely<Database>;
  /** Counters shared by every listener (main and Ollama port), so a second port is no second budget. Default: this app's own. */
  windows?: AuthFailureWindows;
}

/** The counters the server shares between its listeners, limited by rate_limit.auth_failures_per_minute. */
export function authFailureWindows(settings: Settings): AuthFailureWindows {
  return new AuthFailureWindows({ limit: () => settings.current.rate_limit.auth_failures_per_minute });
}

/** Why authentication failed, from what was sent; never the credential itself. */
function reasonOf(request: FastifyRequest): 'missing_key' | 'invalid_key' | 'malformed_authorization' {
  const header = request.headers.authorization;
  if (header === undefined) return 'missing_key';
  return typeof header === 'string' && /^Bearer \S/i.test(header) ? 'invalid_key' : 'malformed_authorization';
}

/** Routes that take a key: declared with a role other than public (unknown routes have none). */
function needsKey(request: FastifyRequest): boolean {
  const role = request.routeOptions.config?.role;
  return role !== undefined && role !== 'public';
}

/** A request that sends credentials (a public route answers it either way, but the key is checked). */
function presentsKey(request: FastifyRequest): boolean {
  return typeof request.headers.authorization === 'string' && request.headers.authorization.length > 0;
}

/** A known route (unknown ones answer 404 before any key is looked at). */
function isRoute(request: FastifyRequest): boolean {
  return request.routeOptions.config?.role !== undefined;
}

/**
 * Registered before the auth plugin, so its onRequest runs first: a blocked address is refused before its
 * key is even looked at. Failures are read from the outcome (401 on a route that needs a key), so this
 * works whatever the auth plugin does inside.
 */
async function authFailuresPlugin(app: FastifyInstance, options: AuthFailuresOptions): Promise<void> {
  const windows = options.windows ?? authFailureWindows(options.settings);

  app.addHook('onRequest', async (request, reply) => {
    // A public route that is sent a key checks it too (whoami, /health's full body): a blocked address may not guess there.
    if (!options.settings.current.management_auth_enabled || !(needsKey(request) || presentsKey(request))) return;
    const waitMs = windows.blockedForMs(request.ip);
    if (waitMs === null) return;
    const retryAfterS = Math.max(1, Math.ceil(waitMs / 1000));
    reply.header('retry-after', String(retryAfterS));
    throw new HangarError(
      'auth_rate_limited',
      `Too many failed authentications from ${request.ip}; requests that need a key are refused for ${retryAfterS} s`,
      { retry_after_s: retryAfterS },
    );
  });

  app.addHook('onResponse', async (request, reply) => {
    const refusedKey = needsKey(request)
      ? reply.statusCode === 401
      : options.settings.current.management_auth_enabled && presentsKey(request) && request.role === null && isRoute(request);
    if (!refusedKey) return;
    const reason = reasonOf(request);
    const verdict = windows.recordFailure(request.ip, reason !== 'missing_key');
    await audit(request, reason, verdict).catch((error: unknown) =>
      request.log.error({ err: error }, 'could not record a failed authentication in the audit log'),
    );
  });

  async function audit(request: FastifyRequest, reason: string, verdict: FailureVerdict): Promise<void> {
    const context = { actor: 'anonymous', requestId: String(request.id) };
    // The path only: a query string may carry anything, a key included.
    const path = textBefore(request.url, '?').slice(0, 256);
    if (verdict.auditFailure) {
      await recordAuditEvent(options.db, context, {
        action: 'auth.failure',
        target: request.ip,
        outcome: 'failure',
        details: { method: request.method, path, reason },
      });
    }
    if (verdict.blocked) {
      await recordAuditEvent(options.db, context, {
        action: 'auth.blocked',
        target: request.ip,
        outcome: 'failure',
        details: {
          failures: verdict.failures,
          limit_per_minute: options.settings.current.rate_limit.auth_failures_per_minute,
          blocked_until: new Date(verdict.windowEndsAt).toISOString(),
        },
      });
    }
  }
}

export default fp(authFailuresPlugin, { name: 'hangar-auth-failures' });
