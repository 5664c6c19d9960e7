// POST /api/create: Ollama create from an existing model (`from`) or uploaded blobs (`files`), sharing blobs, and with `quantize` a quantized version; adapters answer 501.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HangarContext } from '../context.ts';
import { actionContext } from '../request-context.ts';
import { openStream } from '../streaming.ts';
import { HangarError, InvalidInput } from '../../errors.ts';
import { CreateBody, ProgressLine } from '../../schemas/ollama-models.ts';
import { createQuantized } from './create-quantized.ts';
import type { CreateResult, OllamaModelSettings } from '../../app/model-copy.ts';
import { ollamaErrorResponses } from './ollama-errors.ts';

/** Refuses what Hangar cannot do yet, before anything is written. */
function assertSupported(body: CreateBody): void {
  if (body.adapters !== undefined && Object.keys(body.adapters).length > 0) {
    throw new HangarError('not_implemented', 'LoRA adapters are not available yet', { field: 'adapters' });
  }
  if ((body.from === undefined) === (body.files === undefined)) {
    throw new InvalidInput('Give either from (an existing model) or files (uploaded blobs)', { field: body.from ? 'files' : 'from' });
  }
}

/** The status lines Ollama streams for the same work (it all happens before the first line: no bytes are copied). */
function statusLines(result: CreateResult, fromBlobs: boolean): string[] {
  const first = fromBlobs ? (result.version.format === 'gguf' ? 'parsing GGUF' : 'parsing model files') : 'reading model metadata';
  return [first, ...result.digests.map((digest) => `using existing layer ${digest}`), 'writing manifest', 'success'];
}

export default async function createRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/api/create',
    {
      config: { role: 'operator', audit: 'model.create' },
      schema: {
        tags: ['ollama'],
        description:
          'Ollama create: a new version of `model` (`model:tag` also sets alias `tag`) from `from`, an existing model whose blobs it shares, or from `files`, blobs uploaded with POST /api/blobs/sha256:<digest> (the format is detected as an import does). `system`, `template`, `parameters`, `license` and `messages` are kept in the version\'s metadata.ollama (a version made `from` another inherits them). `quantize` (q4_K_M, q8_0, f16… as Ollama names them) makes the new version a quantization of the source, made by llama.cpp\'s quantizer: streams `quantizing F16 model to Q4_K_M` with `total`/`completed` bytes while it runs. `adapters` answer 501 `not_implemented`. Streams `{"status":…}` lines ending in `success`; `stream:false` answers `{"status":"success"}`.',
        body: CreateBody,
        response: { 200: ProgressLine, ...ollamaErrorResponses(400, 403, 404, 501, 507) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      assertSupported(body);
      const settings: OllamaModelSettings = {
        system: body.system,
        template: body.template,
        parameters: body.parameters,
        license: body.license,
        messages: body.messages,
      };
      const context = actionContext(request);
      if (body.quantize !== undefined) return createQuantized(ctx, request, reply, body, settings);
      const result = body.files
        ? await ctx.app.copies.createFromBlobs(body.model, body.files, settings, context)
        : await ctx.app.copies.createFrom(body.model, body.from ?? '', settings, context);
      if (body.stream === false) return { status: 'success' };
      const stream = openStream(request, reply, { format: 'ndjson' });
      for (const status of statusLines(result, body.files !== undefined)) stream.send({ data: { status } });
      stream.end();
      return reply;
    },
  );
}
