// Rate limiting with @fastify/rate-limit: per API key (per address with auth off), a separate budget for inference, live limits.
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HangarError } from '../../errors.ts';
import type { Settings } from '../../config/settings.ts';
import { textBefore } from '../../text-before.ts';

const WINDOW_MS = 60_000;
/** Probes and docs are never throttled: a supervisor polling health must not lock itself out. */
const EXEMPT = /^\/health(\/|$)|^\/docs(\/|$)|^\/openapi\.json$|^\/metrics$/;

async function rateLimitPlugin(app: FastifyInstance, options: { settings: Settings }): Promise<void> {
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
}

export default fp(rateLimitPlugin, { name: 'hangar-rate-limit' });
