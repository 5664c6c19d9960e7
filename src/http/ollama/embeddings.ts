// Ollama's embedding routes: /api/embed (string or list, truncate, dimensions) and the legacy /api/embeddings (one prompt).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HangarContext } from '../context.ts';
import { toHangarRef } from '../../app/compatible-names.ts';
import { OllamaEmbeddingsRequest, OllamaEmbeddingsResponse, OllamaEmbedRequest, OllamaEmbedResponse } from '../../schemas/ollama.ts';
import { ollamaErrorResponses } from './ollama-errors.ts';
import { loadOrUnload, nanoseconds } from './load-request.ts';

const EMBED_ERRORS = ollamaErrorResponses(400, 401, 403, 404, 409, 429, 500, 502, 503);

export default async function embeddingRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { inference } = ctx.app;

  r.post(
    '/api/embed',
    {
      config: { role: 'operator', inference: true },
      schema: {
        tags: ['ollama'],
        description:
          'Embeds a string or a list (unit-norm vectors, the same as /api/v1/embeddings). `truncate` (default true) cuts long inputs to the context; `dimensions` keeps the first n values. An empty input only loads the model.',
        body: OllamaEmbedRequest,
        response: { 200: OllamaEmbedResponse, ...EMBED_ERRORS },
      },
    },
    async (request) => {
      const startedAt = performance.now();
      const body = request.body;
      const ref = toHangarRef(body.model);
      const inputs = typeof body.input === 'string' ? (body.input === '' ? [] : [body.input]) : body.input;
      if (inputs.length === 0) {
        await loadOrUnload(ctx, request, ref, body.keep_alive, body.options?.num_ctx);
        return {
          model: body.model,
          embeddings: [],
          total_duration: nanoseconds(performance.now() - startedAt),
          load_duration: 0,
          prompt_eval_count: 0,
        };
      }
      const result = await inference.embed({
        model: ref,
        inputs,
        keepAlive: body.keep_alive,
        truncate: body.truncate ?? true,
        ...(body.dimensions !== undefined ? { dimensions: body.dimensions } : {}),
      });
      return {
        model: body.model,
        embeddings: result.embeddings,
        total_duration: nanoseconds(performance.now() - startedAt),
        load_duration: nanoseconds(result.loadMs),
        prompt_eval_count: result.tokens,
      };
    },
  );

  r.post(
    '/api/embeddings',
    {
      config: { role: 'operator', inference: true },
      schema: {
        tags: ['ollama'],
        description: 'Legacy single-prompt embedding: `{"prompt"}` → `{"embedding"}`. An empty prompt only loads the model.',
        body: OllamaEmbeddingsRequest,
        response: { 200: OllamaEmbeddingsResponse, ...EMBED_ERRORS },
      },
    },
    async (request) => {
      const body = request.body;
      const ref = toHangarRef(body.model);
      if (body.prompt === '') {
        await loadOrUnload(ctx, request, ref, body.keep_alive, body.options?.num_ctx);
        return { embedding: [] };
      }
      const result = await inference.embed({ model: ref, inputs: [body.prompt], keepAlive: body.keep_alive, truncate: true });
      return { embedding: result.embeddings[0] ?? [] };
    },
  );
}
