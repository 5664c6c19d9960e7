// The model-management half of the Ollama-compatible surface: pull, push, create, copy, delete and blobs.
import type { FastifyInstance } from 'fastify';
import type { HangarContext } from '../context.ts';
import pullRoutes from './pull.ts';
import pushRoutes from './push.ts';
import createRoutes from './create.ts';
import modelAdminRoutes from './model-admin.ts';
import blobRoutes from './blobs.ts';

export default async function ollamaModelManagement(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  await app.register(pullRoutes, ctx);
  await app.register(pushRoutes, ctx);
  await app.register(createRoutes, ctx);
  await app.register(modelAdminRoutes, ctx);
  await app.register(blobRoutes, ctx);
}
