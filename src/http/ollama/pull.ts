// POST /api/pull: Ollama's pull over Hangar's resumable, verified hub download jobs (or a configured Ollama server for library names).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HangarContext } from '../context.ts';
import { actionContext } from '../request-context.ts';
import { deferredStream } from '../streaming.ts';
import { HangarError, InvalidInput } from '../../errors.ts';
import { ProgressLine, PullBody } from '../../schemas/ollama-models.ts';
import { ollamaErrorResponses } from './ollama-errors.ts';
import { pullTargetOf } from './pull-name.ts';
import { followJob, jobFailure, PULL_DONE, PullLines, storedLines } from './pull-progress.ts';
import { upToDateHubVersion } from '../../app/pull-freshness.ts';

/** `model`, or the older `name` the official clients still send. */
export function requestedModel(body: { model?: string; name?: string }): string {
  const model = body.model ?? body.name;
  if (model === undefined || model.trim() === '') throw new InvalidInput('model is required', { field: 'model' });
  return model;
}

export default async function pullRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/api/pull',
    {
      config: { role: 'operator', audit: 'model.download' },
      schema: {
        tags: ['ollama'],
        description:
          'Ollama pull. `hf.co/<org>/<repo>:<quant>` and `<org>/<repo>[:<quant>]` download from HF_ENDPOINT as a Hangar download job (resumable, each file verified against its sha256) into model `hf.co/<org>/<repo>` (or `<org>/<repo>`) with the quant as an alias, so the name pulled is the name that runs; no tag means the default variant. A library name without `/` pulls through a configured Ollama server (404 `no_ollama_backend` without one); the models of the Ollama server are the system ones (the default tenant), so a tenant key gets 403 for a library name and pulls from the hub into its own tenant. Streams NDJSON `pulling manifest`, `pulling <digest>` with total/completed per file, `verifying sha256 digest`, `writing manifest`, `success`; `stream:false` answers `{"status":"success"}` at the end. A client that goes away does not stop the download; pulling again joins it.',
        body: PullBody,
        response: { 200: ProgressLine, ...ollamaErrorResponses(400, 403, 404, 422, 502, 507) },
      },
    },
    async (request, reply) => {
      const target = pullTargetOf(requestedModel(request.body));
      const streaming = request.body.stream ?? true;
      const context = actionContext(request);
      const stream = deferredStream(request, reply, { format: 'ndjson' });

      if (target.kind === 'library') {
        const library = ctx.app.ollamaLibrary;
        if (!library) {
          throw new HangarError(
            'no_ollama_backend',
            `"${target.name}" is an Ollama library name, which Hangar pulls through an Ollama server (OLLAMA_BASE_URL), and none is configured; pull hf.co/<org>/<repo>:<quant> or <org>/<repo> from the hub instead`,
            { model: target.name },
          );
        }
        if (!streaming) {
          await library.pull(target.name, context, () => undefined);
          return { status: 'success' };
        }
        try {
          await library.pull(target.name, context, (line) => stream.send({ data: line }));
          stream.send({ data: { status: 'success' } });
        } catch (error) {
          if (!stream.opened) throw error;
          stream.send({ data: { error: (error as Error).message } });
        }
        stream.end();
        return reply;
      }

      // The Hangar name the pull makes is the caller's tenant's (the repo id stays the hub's): qualified only once parsed.
      const download = { ...target.request, name: request.scope.qualify(target.request.name ?? target.request.repo_id) };
      // Like Ollama, pulling what is already current changes nothing (a job would record another version of the same blobs).
      const current = await upToDateHubVersion(ctx.catalog, ctx.store, ctx.hub(), download);
      if (current) {
        if (!streaming) return { status: 'success' };
        stream.send({ data: { status: 'pulling manifest' } });
        for (const line of storedLines(current)) stream.send({ data: line });
        for (const line of PULL_DONE) stream.send({ data: line });
        stream.end();
        return reply;
      }
      // Submitting checks the repo, variant and disk first, so those failures answer with their status, not a stream.
      const { job } = await ctx.app.models.pull(download, context);
      if (!streaming) {
        const last = await followJob(ctx.jobs, job.id, () => undefined);
        if (last?.status !== 'completed') throw last ? jobFailure(last) : new HangarError('download_failed', 'The download stopped');
        return { status: 'success' };
      }
      stream.send({ data: { status: 'pulling manifest' } });
      const lines = new PullLines();
      try {
        const last = await followJob(
          ctx.jobs,
          job.id,
          (state) => {
            for (const line of lines.of(state)) stream.send({ data: line });
          },
          stream.signal,
        );
        if (last === null) {
          // The client went away: the job runs on, and a later pull of the same name joins it.
          stream.end();
          return reply;
        }
        if (last.status !== 'completed') throw jobFailure(last);
        for (const line of PULL_DONE) stream.send({ data: line });
      } catch (error) {
        stream.send({ data: { error: (error as Error).message } });
      }
      stream.end();
      return reply;
    },
  );
}
