// DELETE /api/delete and POST /api/copy: remove a name (unloading it, as Ollama does) and copy one without copying its bytes.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HangarContext } from '../context.ts';
import { actionContext } from '../request-context.ts';
import { CopyBody, DeleteBody, EmptyBody } from '../../schemas/ollama-models.ts';
import { ollamaErrorResponses } from './ollama-errors.ts';
import { requestedModel } from './pull.ts';
import { emptyReply } from './empty-reply.ts';
import { roleAllows } from '../../auth/roles.ts';

export default async function modelAdminRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.delete(
    '/api/delete',
    {
      config: { role: 'admin', audit: 'model.delete' },
      schema: {
        tags: ['ollama'],
        description:
          'Ollama delete (200, no body; 404 when the name is unknown). `name` or `name:latest` deletes the whole model, `name:<version>` that version, `name:<tag>` the alias — and its version too when no other tag names it and it is not the version `name` serves. A loaded model is unloaded first, as Ollama does; blobs no other version uses are removed.',
        body: DeleteBody,
        response: { 200: EmptyBody, ...ollamaErrorResponses(400, 403, 404) },
      },
    },
    async (request, reply) => {
      await ctx.app.copies.removeName(requestedModel(request.body), actionContext(request));
      return emptyReply(reply, 200);
    },
  );

  r.post(
    '/api/copy',
    {
      config: { role: 'operator', audit: 'model.copy' },
      schema: {
        tags: ['ollama'],
        description:
          'Ollama copy (200, no body; 404 when the source is unknown), with no bytes copied: `source` to `sourcename:tag` points alias `tag` at the version `source` names (moving an alias: admin, as in /api/v1); any other destination gets a new version (its newest) whose files are the same content-addressed blobs, with `copied_from` in its source.',
        body: CopyBody,
        response: { 200: EmptyBody, ...ollamaErrorResponses(400, 403, 404) },
      },
    },
    async (request, reply) => {
      const mayMoveAliases = request.role !== null && roleAllows(request.role, 'admin');
      await ctx.app.copies.copy(request.body.source, request.body.destination, actionContext(request), { mayMoveAliases });
      return emptyReply(reply, 200);
    },
  );
}
