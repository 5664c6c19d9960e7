// Builds the Fastify application: plugins, hooks and routes, from collaborators made by the caller.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { HangarContext } from './context.ts';
import './route-config.ts';
import { rewriteModelPath } from './model-path.ts';
import { validatorCompiler } from './validation.ts';
import errorHandler from './plugins/error-handler.ts';
import docs from './plugins/docs.ts';
import healthRoutes from './routes/health.ts';
import modelRoutes from './routes/models.ts';
import auditRoutes from './routes/audit.ts';
import runtimeRoutes from './routes/runtime.ts';
import inferenceRoutes from './routes/inference.ts';
import { failedMutationRecorder } from './request-context.ts';
import auth from './plugins/auth.ts';
import rateLimit from './plugins/rate-limit.ts';
import cors from '@fastify/cors';
import configRoutes from './routes/config.ts';
import keyRoutes from './routes/keys.ts';
import monitoringRoutes from './routes/monitoring.ts';
import registryRoutes from './routes/registry.ts';
import integrityRoutes from './routes/integrity.ts';
import estimateRoutes from './routes/estimate.ts';
import hubRoutes from './routes/hub.ts';
import eventRoutes from './routes/events.ts';
import { ServiceUnavailable } from '../errors.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Long enough for a 128-character model name with every `/` sent as %2F. */
const MAX_PARAM_LENGTH = 1024;
/** Paths that keep answering when the management API is switched off: health, docs, metrics and inference. */
const ALWAYS_ON = [/^\/health(\/|$)/, /^\/docs(\/|$)/, /^\/openapi\.json$/, /^\/metrics$/, /^\/api\/v1\/(embeddings|generate|chat)$/];

export async function buildApp(ctx: HangarContext): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    bodyLimit: ctx.settings.current.http.body_limit_bytes,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    requestIdHeader: 'x-request-id',
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    rewriteUrl: (request) => rewriteModelPath(request.url ?? '/'),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  app.setValidatorCompiler(validatorCompiler);
  // The API speaks JSON only: other bodies get 415 instead of reaching validation as strings.
  app.removeContentTypeParser('text/plain');

  app.decorate('registeredRoutes', [] as FastifyInstance['registeredRoutes']);
  app.addHook('onRoute', (route) => {
    route.config ??= {};
    // The same object the auth plugin fills in, so roles read later are the final ones.
    for (const method of [route.method].flat()) app.registeredRoutes.push({ method, url: route.url, config: route.config });
  });
  app.decorateRequest('actor', 'anonymous');
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const path = request.url.split('?')[0];
    if (!ctx.settings.current.management_api_enabled && !ALWAYS_ON.some((re) => re.test(path))) {
      throw new ServiceUnavailable('The management API is disabled (MANAGEMENT_API_ENABLED=false)', undefined, 'management_api_disabled');
    }
  });

  await app.register(errorHandler, { onFailedMutation: failedMutationRecorder(ctx.database.db) });
  // Before any route (documentation's included), so its onRoute check sees every route declare a role.
  await app.register(auth, { keys: ctx.keys, settings: ctx.settings });
  await app.register(rateLimit, { settings: ctx.settings });
  await app.register(cors, {
    // Read per request so a config change applies live; empty means no CORS headers at all.
    origin: (origin, callback) => {
      const allowed = ctx.settings.current.hangar_cors_origins.split(',').map((o) => o.trim()).filter(Boolean);
      callback(null, allowed.includes('*') ? true : origin !== undefined && allowed.includes(origin));
    },
  });
  await app.register(docs, { version: ctx.version });
  await app.register(healthRoutes, ctx);
  await app.register(modelRoutes, ctx);
  await app.register(auditRoutes, ctx);
  await app.register(runtimeRoutes, ctx);
  await app.register(inferenceRoutes, ctx);
  await app.register(configRoutes, ctx);
  await app.register(keyRoutes, ctx);
  await app.register(monitoringRoutes, ctx);
  await app.register(registryRoutes, ctx);
  await app.register(eventRoutes, ctx);
  await app.register(integrityRoutes, ctx);
  await app.register(estimateRoutes, ctx);
  await app.register(hubRoutes, ctx);
  return app;
}
