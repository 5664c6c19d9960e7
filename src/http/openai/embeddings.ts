// POST /v1/embeddings: vectors as float lists, or base64 of little-endian float32 (what the official clients ask for by default).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HangarContext } from '../context.ts';
import { toHangarRef } from '../../app/compatible-names.ts';
import { OpenAiEmbeddingsRequest, OpenAiEmbeddingsResponse } from '../../schemas/openai.ts';
import { OPENAI_INFERENCE_ERRORS } from './openai-errors.ts';
import { stringList } from './openai-request.ts';

const FLOAT32_BYTES = 4;

/** The vector as OpenAI's base64 encoding: float32 values, little-endian whatever the host's byte order. */
export function float32Base64(vector: number[]): string {
  const bytes = Buffer.allocUnsafe(vector.length * FLOAT32_BYTES);
  for (const [i, value] of vector.entries()) bytes.writeFloatLE(value, i * FLOAT32_BYTES);
  return bytes.toString('base64');
}

export default async function embeddingRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { inference } = ctx.app;

  r.post(
    '/v1/embeddings',
    {
      config: { role: 'operator', inference: true },
      schema: {
        tags: ['openai'],
        description:
          'OpenAI embeddings: `input` a string or a list of strings; `encoding_format` float (default) or base64 (little-endian float32, ' +
          "the official clients' default); `dimensions` keeps the first values, re-normalised.",
        body: OpenAiEmbeddingsRequest,
        response: { 200: OpenAiEmbeddingsResponse, ...OPENAI_INFERENCE_ERRORS },
      },
    },
    async (request) => {
      const body = request.body;
      const inputs = stringList(body.input, 'input');
      const dimensions = body.dimensions ?? undefined;
      const result = await inference.embed({
        model: toHangarRef(body.model),
        keepAlive: body.keep_alive,
        inputs,
        ...(dimensions !== undefined ? { dimensions } : {}),
      });
      const base64 = body.encoding_format === 'base64';
      return {
        object: 'list' as const,
        data: result.embeddings.map((vector, index) => ({
          object: 'embedding' as const,
          index,
          embedding: base64 ? float32Base64(vector) : vector,
        })),
        model: body.model,
        usage: { prompt_tokens: result.tokens, total_tokens: result.tokens },
      };
    },
  );
}
