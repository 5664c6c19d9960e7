// POST /api/push: Hangar does not push to registries; a clear 501 instead of pretending.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HangarContext } from '../context.ts';
import { HangarError } from '../../errors.ts';
import { parseModelRef } from '../../registry/model-name.ts';
import { toHangarRef } from '../../app/compatible-names.ts';
import { ProgressLine, PushBody } from '../../schemas/ollama-models.ts';
import { ollamaErrorResponses } from './ollama-errors.ts';

export default async function pushRoutes(app: FastifyInstance, _ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/api/push',
    {
      config: { role: 'operator' },
      schema: {
        tags: ['ollama'],
        description: 'Ollama push: not supported (501 `not_supported`); Hangar pulls from a hub but does not publish to registries.',
        body: PushBody,
        response: { 200: ProgressLine, ...ollamaErrorResponses(400, 403, 501) },
      },
    },
    async (request) => {
      const model = request.body.model ?? request.body.name ?? '';
      // A hostile name is refused as such (400), not answered as an unsupported push.
      parseModelRef(toHangarRef(model));
      throw new HangarError('not_supported', `Pushing models is not supported by Hangar (asked to push "${model}")`, { model });
    },
  );
}
