// GET /v1/models and /v1/models/{model}: the names of /api/tags (`name:latest`, `name:<alias>`) as OpenAI model objects.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HangarContext } from '../context.ts';
import { listCompatibleModels, toHangarRef } from '../../app/compatible-names.ts';
import { OpenAiModel, OpenAiModelList, OpenAiModelParams } from '../../schemas/openai.ts';
import { openAiErrorResponses } from './openai-errors.ts';

/** Who OpenAI's `owned_by` names: every model here is served by this Hangar. */
const OWNER = 'hangar';

const unixSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

export default async function modelRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/v1/models',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['openai'],
        description:
          'Every model with a version, as `name:latest` (the version Hangar serves: production, else the newest) and once per alias ' +
          "(`name:<alias>`), the same names as /api/tags; `created` is when that version was created. A tenant's key lists its tenant's models only.",
        response: { 200: OpenAiModelList, ...openAiErrorResponses(401, 403, 429, 500) },
      },
    },
    async (request) => {
      // A tenant's key lists its tenant's models only; a system key lists every tenant's.
      const listed = await listCompatibleModels(ctx.catalog, request.scope.tenant ?? undefined);
      return {
        object: 'list' as const,
        data: listed.map((m) => ({ id: m.name, object: 'model' as const, created: unixSeconds(m.version.created_at), owned_by: OWNER })),
      };
    },
  );

  r.get(
    '/v1/models/:model',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['openai'],
        description:
          'One model by any name /v1/models lists (also `name` and `name:<version>`); names with `/` may be sent as is or with %2F. 404 for unknown names.',
        params: OpenAiModelParams,
        response: { 200: OpenAiModel, ...openAiErrorResponses(400, 401, 403, 404, 429, 500) },
      },
    },
    async (request) => {
      const { model } = request.params;
      const resolved = await ctx.catalog.resolve(toHangarRef(model));
      return { id: model, object: 'model' as const, created: unixSeconds(resolved.version.created_at), owned_by: OWNER };
    },
  );
}
