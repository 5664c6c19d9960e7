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
import { ServiceUnavailable } from '../errors.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Long enough for a 128-character model name with every `/` sent as %2F. */
const MAX_PARAM_LENGTH = 1024;
/** Paths that keep answering when the management API is switched off. */
const ALWAYS_ON = [/^\/health(\/|$)/, /^\/docs(\/|$)/, /^\/openapi\.json$/, /^\/metrics$/];

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

  app.decorate('registeredRoutes', [] as Array<{ method: string; url: string }>);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) app.registeredRoutes.push({ method, url: route.url });
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
  await app.register(docs, { version: ctx.version });
  await app.register(healthRoutes, ctx);
  await app.register(modelRoutes, ctx);
  await app.register(auditRoutes, ctx);
  await app.register(runtimeRoutes, ctx);
  await app.register(inferenceRoutes, ctx);
  return app;
}
