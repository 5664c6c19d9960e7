// Builds the Fastify application: plugins, hooks and routes, from collaborators made by the caller.
import { randomUUID } from 'node:crypto';
import type https from 'node:https';
import Fastify, { type FastifyBaseLogger, type FastifyHttpsOptions, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { HangarContext } from './context.ts';
import './route-config.ts';
import { rewriteModelPath } from './model-path.ts';
import { lazySchemas } from './validation.ts';
import errorHandler, { frameworkErrorAnswerer } from './plugins/error-handler.ts';
import { ollamaErrorDialect } from './ollama/ollama-errors.ts';
import { openAiErrorDialect } from './openai/openai-errors.ts';
import docs from './plugins/docs.ts';
import { failedMutationRecorder } from './request-context.ts';
import { endStreamsOnClose } from './streaming.ts';
import hangarApi from './api/index.ts';
import dashboard, { sendBrowsersToDashboard } from './dashboard/index.ts';
import ollamaApi from './ollama/index.ts';
import openAiApi from './openai/index.ts';
import authFailures from './plugins/auth-failures.ts';
import auth from './plugins/auth.ts';
import rateLimit from './plugins/rate-limit.ts';
import tenantNames from './plugins/tenant-names.ts';
import cors from '@fastify/cors';
import { ServiceUnavailable } from '../errors.ts';
import { textBefore } from '../text-before.ts';
import { parseTrustProxy } from '../config/trust-proxy.ts';
import type { AuthFailureWindows } from '../security/auth-failure-windows.ts';
import type { TlsMaterial } from './tls.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Builds every route's validators and serializers now (they are built on first use); returns how many (validation.ts). */
    compileRouteSchemas: () => number;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Long enough for a 128-character model name with every `/` sent as %2F. */
const MAX_PARAM_LENGTH = 1024;
/** Paths that keep answering when the management API is switched off: health, docs, metrics and inference. */
const ALWAYS_ON = [
  /^\/health(\/|$)/,
  /^\/docs(\/|$)/,
  /^\/openapi\.json$/,
  /^\/metrics$/,
  /^\/api\/v1\/(embeddings|generate|chat)$/,
  // The Ollama surface's inference, and the discovery its clients do before it (is it up, which version, which models).
  /^\/$/,
  /^\/api\/(version|tags|show|generate|chat|embed|embeddings)$/,
  // The OpenAI surface's inference, and the model listing its clients read before it.
  /^\/v1\/(models(\/[^?]*)?|chat\/completions|completions|embeddings)$/,
];

/** The compatible surfaces' error shapes, each chosen by its paths. */
const ERROR_DIALECTS = [ollamaErrorDialect, openAiErrorDialect];

/** The HTTP surfaces one listener serves: Hangar's own API (with docs) and the compatible ones. */
export type Surface = 'hangar' | 'ollama' | 'openai';
export const ALL_SURFACES: readonly Surface[] = ['hangar', 'ollama', 'openai'];

export interface BuildAppOptions {
  /** Certificate and key read at start-up: the listener serves HTTPS. Default: plain HTTP. */
  tls?: TlsMaterial | null;
  /** Failed-authentication counters shared with the server's other listeners. Default: this app's own. */
  authFailures?: AuthFailureWindows;
}

export async function buildApp(
  ctx: HangarContext,
  surfaces: readonly Surface[] = ALL_SURFACES,
  options: BuildAppOptions = {},
): Promise<FastifyInstance> {
  const schemas = lazySchemas();
  const fastifyOptions: FastifyServerOptions = {
    loggerInstance: ctx.logger as FastifyBaseLogger,
    // Read once: the proxies in front of a listener do not change while it runs (a restart-only setting).
    trustProxy: parseTrustProxy(ctx.settings.current.hangar_trust_proxy),
    bodyLimit: ctx.settings.current.http.body_limit_bytes,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    requestIdHeader: 'x-request-id',
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    rewriteUrl: (request) => rewriteModelPath(request.url ?? '/'),
    frameworkErrors: frameworkErrorAnswerer(ERROR_DIALECTS),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Validators and serializers are built on each route's first use, not for ~100 routes at start-up (validation.ts).
    schemaController: schemas.schemaController,
  };
  // An HTTPS Fastify is typed for https.Server; routes and hooks do not care which, so both are used as one type.
  const app = options.tls
    ? (Fastify({
        ...fastifyOptions,
        https: { cert: options.tls.cert, key: options.tls.key },
      } as FastifyHttpsOptions<https.Server>) as unknown as FastifyInstance)
    : Fastify(fastifyOptions);
  // The API speaks JSON only: other bodies get 415 instead of reaching validation as strings.
  app.removeContentTypeParser('text/plain');

  app.decorate('compileRouteSchemas', schemas.compileAll);
  app.decorate('registeredRoutes', [] as FastifyInstance['registeredRoutes']);
  app.addHook('onRoute', (route) => {
    route.config ??= {};
    // The same object the auth plugin fills in, so roles read later are the final ones.
    for (const method of [route.method].flat()) app.registeredRoutes.push({ method, url: route.url, config: route.config });
  });
  app.decorateRequest('actor', 'anonymous');
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const path = textBefore(request.url, '?');
    if (!ctx.settings.current.management_api_enabled && !ALWAYS_ON.some((re) => re.test(path))) {
      throw new ServiceUnavailable('The management API is disabled (MANAGEMENT_API_ENABLED=false)', undefined, 'management_api_disabled');
    }
  });

  endStreamsOnClose(app);
  await app.register(errorHandler, { onFailedMutation: failedMutationRecorder(ctx.database.db), dialects: ERROR_DIALECTS });
  // Before auth, so an address over the failed-authentication limit is refused before its key is checked.
  await app.register(authFailures, { settings: ctx.settings, db: ctx.database.db, windows: options.authFailures });
  // Before any route (documentation's included), so its onRoute check sees every route declare a role.
  await app.register(auth, { keys: ctx.keys, settings: ctx.settings });
  await app.register(tenantNames);
  await app.register(rateLimit, { settings: ctx.settings, tenants: ctx.tenants });
  await app.register(cors, {
    // Read per request so a config change applies live; empty means no CORS headers at all.
    origin: (origin, callback) => {
      const allowed = ctx.settings.current.hangar_cors_origins
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean);
      callback(null, allowed.includes('*') ? true : origin !== undefined && allowed.includes(origin));
    },
  });
  // Each HTTP surface is one folder registered here.
  if (surfaces.includes('hangar')) {
    await app.register(docs, { version: ctx.version });
    await app.register(hangarApi, ctx);
    await app.register(dashboard);
    sendBrowsersToDashboard(app);
  }
  if (surfaces.includes('ollama')) await app.register(ollamaApi, ctx);
  if (surfaces.includes('openai')) await app.register(openAiApi, ctx);
  return app;
}
