// The Ollama-compatible surface at the root, as Ollama serves it: one routes file per concern, each registered here.
import type { FastifyInstance } from 'fastify';
import type { HangarContext } from '../context.ts';
import listingRoutes from './listing.ts';
import generationRoutes from './generation.ts';
import embeddingRoutes from './embeddings.ts';
import modelManagementRoutes from './model-management.ts';
import { readBodiesAsOllamaDoes } from './go-style-body.ts';

export default async function ollamaApi(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  readBodiesAsOllamaDoes(app);
  await app.register(listingRoutes, ctx);
  await app.register(generationRoutes, ctx);
  await app.register(embeddingRoutes, ctx);
  await app.register(modelManagementRoutes, ctx);
}
