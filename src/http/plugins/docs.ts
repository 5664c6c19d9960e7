// OpenAPI document (/openapi.json) and Swagger UI (/docs), generated from the route schemas.
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export interface DocsOptions {
  version: string;
}

async function docsPlugin(app: FastifyInstance, options: DocsOptions): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      components: {
        securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'Hangar API key (with MANAGEMENT_AUTH_ENABLED=true)' } },
      },
      security: [{ apiKey: [] }],
      info: {
        title: 'Hangar',
        description:
          'Self-hosted model management: registry, artifact store, runtime and monitoring. Errors answer `{"error":{"code","message","details?"}}`.',
        version: options.version,
      },
      tags: [
        { name: 'health', description: 'Liveness, readiness and overall health' },
        { name: 'models', description: 'Model catalog: import, list, inspect, delete' },
        { name: 'runtime', description: 'Load, unload, reload; model status' },
        { name: 'inference', description: 'Embeddings, generation, chat' },
        { name: 'audit', description: 'Audit log of every change' },
        { name: 'config', description: 'Effective configuration, its schema, live changes' },
        { name: 'keys', description: 'API keys and their roles' },
        { name: 'registry', description: 'Versions, promotion, rollback, aliases, history, comparison' },
        { name: 'events', description: 'Event stream (SSE) and signed webhooks' },
        { name: 'monitoring', description: 'Metrics, Prometheus, GPUs, hardware, resources, summary' },
        { name: 'ollama', description: 'Ollama-compatible API (errors answer {"error":"…"})' },
        { name: 'openai', description: 'OpenAI-compatible API under /v1 (errors answer {"error":{"message","type","param","code"}})' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { config: { role: 'public' }, schema: { hide: true } }, async () => app.swagger());
}

export default fp(docsPlugin, { name: 'hangar-docs' });
