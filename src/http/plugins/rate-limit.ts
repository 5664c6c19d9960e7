// Rate limiting with @fastify/rate-limit: per API key (per address with auth off), a separate budget for inference, live limits; and each tenant's per-minute quotas.
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HangarError } from '../../errors.ts';
import type { Settings } from '../../config/settings.ts';
import { textBefore } from '../../text-before.ts';
import type { TenantService } from '../../auth/tenant-service.ts';
import { TenantRateWindows } from '../../tenants/tenant-rate-window.ts';

const WINDOW_MS = 60_000;
/** Probes and docs are never throttled: a supervisor polling health must not lock itself out. */
const EXEMPT = /^\/health(\/|$)|^\/docs(\/|$)|^\/openapi\.json$|^\/metrics$/;

async function rateLimitPlugin(app: FastifyInstance, options: { settings: Settings; tenants: TenantService }): Promise<void> {
  const isInference = (request: FastifyRequest) => request.routeOptions.config?.inference === true;
  // Read on every request, so PATCH /config changes the limit without a restart.
  const limitFor = (request: FastifyRequest) => {
    const config = options.settings.current;
    return isInference(request) && config.rate_limit.inference_per_minute > 0
      ? config.rate_limit.inference_per_minute
      : config.api_rate_limit;
  };
  await app.register(rateLimit, {
    global: true,
    // After authentication, so the key (not just the address) is known.
    hook: 'preHandler',
    timeWindow: WINDOW_MS,
    max: (request) => limitFor(request),
    keyGenerator: (request) =>
      `${isInference(request) ? 'inference' : 'api'}:${request.keyId ? `key:${request.keyId}` : `ip:${request.ip}`}`,
    allowList: (request) => EXEMPT.test(textBefore(request.url, '?')),
    enableDraftSpec: true,
    errorResponseBuilder: (_request, context) =>
      new HangarError('rate_limited', `Rate limit of ${context.max} requests per minute exceeded; retry in ${context.after}`, {
        limit: context.max,
        retry_after: context.after,
      }),
  });
  tenantBudgets(app, options.tenants);
}

/** A tenant's requests_per_minute (every request) and inference_per_minute (inference routes), all its keys together. */
function tenantBudgets(app: FastifyInstance, tenants: TenantService): void {
  const windows = new TenantRateWindows();
  app.addHook('preHandler', async (request, reply) => {
    const tenant = request.scope.tenant;
    if (tenant === null || EXEMPT.test(textBefore(request.url, '?'))) return;
    const quotas = await tenants.quotasOf(tenant);
    const budgets: Array<[string, number | undefined]> = [['requests_per_minute', quotas.requests_per_minute]];
    if (request.routeOptions.config?.inference) budgets.push(['inference_per_minute', quotas.inference_per_minute]);
    for (const [quota, limit] of budgets) {
      if (limit === undefined) continue;
      const verdict = windows.take(`${tenant}:${quota}`, limit);
      if (verdict.allowed) continue;
      reply.header('retry-after', String(verdict.retryAfterSeconds));
      throw new HangarError(
        'rate_limited',
        `Tenant "${tenant}" is over its ${quota} quota of ${limit}; retry in ${verdict.retryAfterSeconds} s`,
        {
          tenant,
          quota,
          limit,
          retry_after: verdict.retryAfterSeconds,
        },
      );
    }
  });
}

export default fp(rateLimitPlugin, { name: 'hangar-rate-limit' });
