// Ollama create with `quantize`: a quantize job from the `from` model (or the version the uploaded files make) into `model`, streamed as Ollama's status lines.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HangarContext } from '../context.ts';
import { actionContext } from '../request-context.ts';
import { deferredStream } from '../streaming.ts';
import { HangarError } from '../../errors.ts';
import type { CreateBody } from '../../schemas/ollama-models.ts';
import type { OllamaModelSettings } from '../../app/model-copy.ts';
import type { JobInfoWithoutRate } from '../../schemas/hub.ts';
import { toHangarRef } from '../../app/compatible-names.ts';
import { followJob, jobFailure } from './pull-progress.ts';

/** Only the settings given, so an absent one keeps the source's. */
function givenSettings(settings: OllamaModelSettings): Record<string, unknown> | undefined {
  const given = Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
  return Object.keys(given).length > 0 ? given : undefined;
}

/** The status line of a running quantization, as Ollama words it (`quantizing F16 model to Q4_K_M`), with bytes of the source done. */
function progressLine(job: JobInfoWithoutRate, from: string): { status: string; total: number; completed: number } {
  return {
    status: `quantizing ${from} model to ${job.quantize?.type ?? job.variant}`,
    total: job.progress.bytes_total,
    completed: job.progress.bytes_done,
  };
}

export async function createQuantized(
  ctx: HangarContext,
  request: FastifyRequest,
  reply: FastifyReply,
  body: CreateBody,
  settings: OllamaModelSettings,
): Promise<{ status: string } | FastifyReply> {
  const context = actionContext(request);
  const type = body.quantize ?? '';
  // Uploaded files become a version first (what Ollama calls the source layer); `from` is quantized as it is.
  const source = body.files
    ? await ctx.app.copies.createFromBlobs(body.model, body.files, settings, context).then((r) => `${r.version.model}:${r.version.version}`)
    : toHangarRef(body.from ?? '');
  const resolved = await ctx.catalog.resolve(source);
  const started = await ctx.app.quantization.quantize(
    { model: `${resolved.model.name}:${resolved.version.version}`, type, name: toHangarRef(body.model), ollama: givenSettings(settings) },
    context,
  );
  const from = resolved.version.quantization ?? 'full-precision';
  const streaming = body.stream ?? true;
  const stream = deferredStream(request, reply, { format: 'ndjson' });
  if (!streaming) {
    const last = await followJob(ctx.jobs, started.job.id, () => undefined);
    if (last?.status !== 'completed') throw last ? jobFailure(last) : new HangarError('quantization_failed', 'The quantization stopped');
    return { status: 'success' };
  }
  let lastPercent = -1;
  try {
    const last = await followJob(
      ctx.jobs,
      started.job.id,
      (job) => {
        // One line per whole percent: Ollama's clients redraw a bar from total/completed.
        if (job.status !== 'running' || Math.floor(job.progress.percent) === lastPercent) return;
        lastPercent = Math.floor(job.progress.percent);
        stream.send({ data: progressLine(job, from) });
      },
      stream.signal,
    );
    if (last === null) return reply;
    if (last.status !== 'completed') throw jobFailure(last);
    const digest = (last.result as { sha256?: string } | null)?.sha256;
    stream.send({ data: { status: digest ? `writing layer sha256:${digest}` : 'writing layer' } });
    stream.send({ data: { status: 'writing manifest' } });
    stream.send({ data: { status: 'success' } });
  } catch (error) {
    if (!stream.opened) throw error;
    stream.send({ data: { error: (error as Error).message } });
  }
  stream.end();
  return reply;
}
