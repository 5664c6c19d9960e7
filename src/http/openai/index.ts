// The OpenAI-compatible surface under /v1: models, chat completions, legacy completions and embeddings, one routes file each.
import type { FastifyInstance } from 'fastify';
import type { HangarContext } from '../context.ts';
import modelRoutes from './models.ts';
import chatRoutes from './chat.ts';
import completionRoutes from './completions.ts';
import embeddingRoutes from './embeddings.ts';

export default async function openAiApi(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  await app.register(modelRoutes, ctx);
  await app.register(chatRoutes, ctx);
  await app.register(completionRoutes, ctx);
  await app.register(embeddingRoutes, ctx);
}
