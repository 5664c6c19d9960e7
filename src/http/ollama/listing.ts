// Ollama's read-only routes: `/` (is it running), /api/version, /api/tags (models), /api/show (one model), /api/ps (loaded ones).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import type { HangarContext } from '../context.ts';
import { listCompatibleModels, toCompatibleName } from '../../app/compatible-names.ts';
import { InvalidInput, NotFound } from '../../errors.ts';
import { MIB } from '../../mebibytes.ts';
import {
  OllamaPsResponse,
  OllamaShowRequest,
  OllamaShowResponse,
  OllamaTagsResponse,
  OllamaVersionResponse,
} from '../../schemas/ollama.ts';
import { ollamaErrorResponses } from './ollama-errors.ts';
import {
  ollamaCapabilities,
  ollamaDetails,
  ollamaDigest,
  ollamaLicense,
  ollamaModelfile,
  ollamaModelInfo,
  ollamaParameters,
  ollamaSystem,
} from './ollama-model-facts.ts';
import { chatTemplate, versionForName } from './ollama-versions.ts';

/**
 * The Ollama API version this surface speaks (structured outputs, tools, /api/embed with truncate and dimensions).
 * Clients compare it as integers to enable features, so it is Ollama's numbering, not Hangar's own.
 */
export const OLLAMA_COMPATIBLE_VERSION = '0.6.4';

/** How /api/ps shows a model kept loaded forever (Ollama shows a date far in the future too). */
const FOREVER = '9999-12-31T23:59:59.000Z';

export default async function listingRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  // GET also answers HEAD (Fastify's HEAD routes), which Ollama's CLI and some clients use as a liveness probe.
  r.get(
    '/',
    {
      config: { role: 'public' },
      schema: {
        tags: ['ollama'],
        description: 'Answers `Ollama is running` (text/plain), as Ollama does: clients probe it to find a server.',
        response: { 200: Type.String() },
      },
    },
    async (_request, reply) => reply.type('text/plain; charset=utf-8').send('Ollama is running'),
  );

  r.get(
    '/api/version',
    {
      config: { role: 'public' },
      schema: {
        tags: ['ollama'],
        description: `The Ollama API version this surface is compatible with (${OLLAMA_COMPATIBLE_VERSION}); Hangar's own is in /health.`,
        response: { 200: OllamaVersionResponse },
      },
    },
    async () => ({ version: OLLAMA_COMPATIBLE_VERSION }),
  );

  r.get(
    '/api/tags',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['ollama'],
        description:
          "Every model with a version, as `name:latest` (the version Hangar serves: production, else the newest) and once per alias (`name:<alias>`). A tenant's key lists its tenant's models only, without the tenant prefix.",
        response: { 200: OllamaTagsResponse, ...ollamaErrorResponses(401, 403, 500) },
      },
    },
    async (request) => {
      // A tenant's key lists its tenant's models only; a system key lists every tenant's.
      const listed = await listCompatibleModels(ctx.catalog, request.scope.tenant ?? undefined);
      return {
        models: listed.map(({ name, version }) => ({
          name,
          model: name,
          modified_at: version.created_at,
          size: version.size_bytes,
          digest: ollamaDigest(version),
          details: ollamaDetails(version),
        })),
      };
    },
  );

  r.post(
    '/api/show',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['ollama'],
        description:
          'One model as Ollama describes it: details, GGUF-style model_info (for ONNX models too), capabilities, chat template, parameters, license.',
        body: OllamaShowRequest,
        response: { 200: OllamaShowResponse, ...ollamaErrorResponses(400, 401, 403, 404, 500) },
      },
    },
    async (request) => {
      const name = request.body.model ?? request.body.name;
      if (!name) throw new InvalidInput('model is required', { field: 'model' });
      const named = await versionForName(ctx.catalog, name);
      const template = await chatTemplate(ctx.catalog, named);
      const { version } = named;
      return {
        license: ollamaLicense(version),
        modelfile: ollamaModelfile(name, version, template),
        parameters: ollamaParameters(version),
        template: template ?? '',
        system: ollamaSystem(version),
        details: ollamaDetails(version),
        model_info: ollamaModelInfo(version),
        capabilities: ollamaCapabilities(version, template),
        modified_at: version.created_at,
      };
    },
  );

  r.get(
    '/api/ps',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['ollama'],
        description:
          "Loaded models: memory they hold (size, size_vram), when their keep-alive expires, their context window. A tenant's key sees its tenant's models only.",
        response: { 200: OllamaPsResponse, ...ollamaErrorResponses(401, 403, 500) },
      },
    },
    async (request) => {
      const loaded = ctx.runtime.snapshots().filter((s) => s.state === 'loaded' && s.version !== null && request.scope.ownsName(s.name));
      const models: Array<Static<typeof OllamaPsResponse>['models'][number]> = [];
      for (const snapshot of loaded) {
        try {
          const named = await versionForName(ctx.catalog, `${snapshot.name}:${snapshot.version?.number}`);
          const status = await ctx.runtime.status(snapshot.name);
          if (status.status !== 'loaded') continue;
          const vram = Math.round((status.vram_usage_mb ?? 0) * MIB);
          const name = toCompatibleName(snapshot.ref);
          models.push({
            name,
            model: name,
            size: Math.round(status.memory_usage_mb * MIB) + vram,
            size_vram: vram,
            digest: ollamaDigest(named.version),
            details: ollamaDetails(named.version),
            expires_at: status.expires_at ?? (status.keep_alive === 'forever' ? FOREVER : new Date().toISOString()),
            context_length: status.context_size ?? named.version.context_length ?? 0,
          });
        } catch (error) {
          // A model deleted while listed is simply gone.
          if (!(error instanceof NotFound)) throw error;
        }
      }
      return { models };
    },
  );
}
