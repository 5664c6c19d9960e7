// Quantize route: POST /api/v1/models/{name}/quantize starts a background job that makes a quantized version.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HangarContext } from '../context.ts';
import { errorResponses } from '../../schemas/common.ts';
import { DownloadAccepted } from '../../schemas/hub.ts';
import { ModelNameParams } from '../../schemas/models.ts';
import { QuantizeBody } from '../../schemas/quantize.ts';
import { parseModelRef } from '../../registry/model-name.ts';
import { actionContext } from '../request-context.ts';

export default async function quantizeRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/api/v1/models/:name/quantize',
    {
      config: { role: 'operator', audit: 'model.quantize' },
      schema: {
        tags: ['models'],
        description:
          "Quantizes a full-precision version into a new version (202 with a job). GGUF models go through llama.cpp's own quantizer (the libllama node-llama-cpp ships) in a child process; ONNX models become transformers.js' fp16 (`onnx/model_fp16.onnx`) or q8 (`onnx/model_quantized.onnx`, dynamic int8 MatMul weights) files. The source is validated first (every file hashed); the output is written to a temp file and enters the store only when complete. The new version records `quantization`, the tensor types the file really holds (`metadata.tensor_types`) and its lineage (`source.kind: quantized`, `from: {model, version, sha256}`, `type`, `tool`). Progress, cancel (DELETE /api/v1/jobs/{id}) and the job stream are those of downloads; identical requests join one job. 409 already_quantized for a source that is not full precision.",
        params: ModelNameParams,
        body: QuantizeBody,
        response: { 202: DownloadAccepted, ...errorResponses(400, 403, 404, 409, 507) },
      },
    },
    async (request, reply) => {
      const { version, type, name } = request.body;
      const source = version === undefined ? request.params.name : `${parseModelRef(request.params.name).name}:${version}`;
      const { job, deduplicated } = await ctx.app.quantization.quantize({ model: source, type, name }, actionContext(request));
      return reply.status(202).send({ job_id: job.id, status: job.status, deduplicated, job: { ...job, speed_bps: 0, eta_s: null } });
    },
  );
}
