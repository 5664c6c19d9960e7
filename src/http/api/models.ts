// Model catalog routes: list, import, get and delete models (the canonical /api/v1 paths).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HangarContext } from '../context.ts';
import { errorResponses } from '../../schemas/common.ts';
import {
  DeleteQuery,
  DeleteResult,
  ImportRequest,
  ModelDetail,
  ModelList,
  ModelListQuery,
  ModelNameParams,
  VersionInfo,
} from '../../schemas/models.ts';
import { actionContext } from '../request-context.ts';

export default async function modelRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/api/v1/models',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['models'],
        description:
          'All models, sorted by name, with version counts, production version and the facts of the current version. Filter by name substring, tag or format; page with limit and page_token.',
        querystring: ModelListQuery,
        response: { 200: ModelList, ...errorResponses(400) },
      },
    },
    async (request) => ctx.catalog.listModels(request.query, request.scope.tenant ?? undefined),
  );

  r.post(
    '/api/v1/models/import',
    {
      config: { role: 'operator', audit: 'model.import' },
      schema: {
        tags: ['models'],
        description:
          'Imports a folder (Hugging Face ONNX layout) or a GGUF file on the server as the next version of `name` (created if new). `name:tag` also points alias `tag` at the new version. Files are copied into the content-addressed store.',
        body: ImportRequest,
        response: { 201: VersionInfo, ...errorResponses(400, 507) },
      },
    },
    async (request, reply) => {
      const version = await ctx.app.models.importVersion(request.body, actionContext(request));
      return reply.status(201).send(version);
    },
  );

  r.get(
    '/api/v1/models/:name',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['models'],
        description: 'One model with its aliases and versions (newest first). `name:ref` also reports which version the ref resolves to.',
        params: ModelNameParams,
        response: { 200: ModelDetail, ...errorResponses(400, 404) },
      },
    },
    async (request) => ctx.catalog.getModel(request.params.name),
  );

  r.delete(
    '/api/v1/models/:name',
    {
      config: { role: 'admin', audit: 'model.delete' },
      schema: {
        tags: ['models'],
        description:
          'Deletes a model (or, with `name:ref`, one version) and the stored files no other version uses. 409 model_loaded while it is loaded; `?force=true` unloads it first.',
        params: ModelNameParams,
        querystring: DeleteQuery,
        response: { 200: DeleteResult, ...errorResponses(400, 404, 409) },
      },
    },
    async (request) => {
      return ctx.app.models.delete(request.params.name, request.query.force ?? false, actionContext(request));
    },
  );
}
