// Hub routes: model search, model info and variants, downloads as background jobs, job progress over SSE and WebSocket.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import websocket from '@fastify/websocket';
import { Type } from 'typebox';
import { openStream } from '../streaming.ts';
import type { HangarContext } from '../context.ts';
import { errorResponses } from '../../schemas/common.ts';
import {
  DownloadAccepted,
  DownloadRequest,
  HubModelInfo,
  HubSearchQuery,
  HubSearchResult,
  JobIdParams,
  JobInfo,
  JobListQuery,
  RepoIdParams,
  RevisionQuery,
} from '../../schemas/hub.ts';
import { actionContext } from '../request-context.ts';
import { fetchModelInfo } from '../../hub/model-info.ts';
import { searchHubModels } from '../../hub/hub-search.ts';
import type { JobMessage } from '../../hub/download-jobs.ts';
import type { JobInfoWithoutRate as JobInfoType } from '../../schemas/hub.ts';

/** A job stream ends when its job ends or pauses (resuming starts a new stream). */
const STREAM_ENDS = new Set(['completed', 'failed', 'cancelled', 'paused']);
const KEEPALIVE_MS = 15_000;

/** The tenant whose jobs a caller reaches; undefined for a system caller (every tenant's). */
const tenantOf = (request: FastifyRequest) => request.scope.tenant ?? undefined;

function messageFor(job: JobInfoType, rate: { speed_bps: number; eta_s: number | null }): JobMessage {
  const type =
    job.status === 'completed'
      ? 'download_completed'
      : job.status === 'failed'
        ? 'download_failed'
        : job.status === 'cancelled'
          ? 'download_cancelled'
          : job.status === 'paused'
            ? 'download_paused'
            : 'download_progress';
  return { type, job_id: job.id, at: new Date().toISOString(), job, ...rate };
}

export default async function hubRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  // WebSockets open at shutdown are closed with 1001 (job streams over SSE end with the app, see streaming.ts).
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });
  const withRate = (job: JobInfoType) => ({ ...job, ...ctx.jobs.rate(job.id) });

  r.get(
    '/api/v1/hub/search',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['hub'],
        description:
          "Models on the hub (HF_ENDPOINT) whose repo id contains `q`, most downloaded first: the dashboard's repo-id suggestions. Uses the hub's model search (@huggingface/hub listModels) with HF_TOKEN when set, so private repos the token can see are listed too.",
        querystring: HubSearchQuery,
        response: { 200: HubSearchResult, ...errorResponses(400, 403, 502) },
      },
    },
    async (request) => searchHubModels(ctx.hub(), request.query.q, request.query.limit ?? 10),
  );

  r.get(
    '/api/v1/models/info/:repo_id',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['hub'],
        description:
          'What a hub repo holds, read from the hub without downloading weights: architecture, parameter count, context length, licence, files with sizes and sha256, and the variants Hangar can download (GGUF files by quantization, ONNX files by transformers.js dtype). GGUF facts come from the file header read with HTTP range requests.',
        params: RepoIdParams,
        querystring: RevisionQuery,
        response: { 200: HubModelInfo, ...errorResponses(400, 403, 404, 502) },
      },
    },
    async (request) => fetchModelInfo(ctx.hub(), request.params.repo_id, request.query.revision ?? 'main'),
  );

  r.post(
    '/api/v1/models/download',
    {
      config: { role: 'operator', audit: 'model.download' },
      schema: {
        tags: ['hub'],
        description:
          "Starts downloading a hub repo variant as a background job (202). The repo, variant and free disk are checked first. Files download in parallel byte ranges to partial files that resume after a restart, each verified against the hub's sha256 while it streams; only verified files enter the store, then a new model version is created with its lineage (repo, revision, commit). An identical active request joins the existing job. Follow it with GET /api/v1/jobs/{id}/events or the /api/v1/ws WebSocket.",
        body: DownloadRequest,
        response: { 202: DownloadAccepted, ...errorResponses(400, 403, 404, 422, 502, 507) },
      },
    },
    async (request, reply) => {
      const { job, deduplicated } = await ctx.app.models.pull(request.body, actionContext(request));
      return reply.status(202).send({ job_id: job.id, status: job.status, deduplicated, job: withRate(job) });
    },
  );

  r.get(
    '/api/v1/jobs',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['hub'],
        description:
          "Background jobs (downloads, repairs, quantizations, Ollama pulls), newest first; a tenant key sees its tenant's only.",
        querystring: JobListQuery,
        response: { 200: Type.Object({ jobs: Type.Array(JobInfo) }), ...errorResponses(400) },
      },
    },
    async (request) => ({ jobs: (await ctx.jobs.list({ ...request.query, tenant: tenantOf(request) })).map(withRate) }),
  );

  r.get(
    '/api/v1/jobs/:id',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['hub'],
        description: 'One job with per-file progress, speed and ETA.',
        params: JobIdParams,
        response: { 200: JobInfo, ...errorResponses(404) },
      },
    },
    async (request) => withRate(await ctx.jobs.get(request.params.id, tenantOf(request))),
  );

  r.delete(
    '/api/v1/jobs/:id',
    {
      config: { role: 'operator', audit: 'job.cancel' },
      schema: {
        tags: ['hub'],
        description: 'Cancels an active job and deletes its partial files (unless another job is fetching the same file).',
        params: JobIdParams,
        response: { 200: JobInfo, ...errorResponses(404, 409) },
      },
    },
    async (request) => withRate(await ctx.jobs.cancel(request.params.id, tenantOf(request))),
  );

  r.post(
    '/api/v1/jobs/:id/pause',
    {
      config: { role: 'operator', audit: 'job.pause' },
      schema: {
        tags: ['hub'],
        description: 'Pauses a download, keeping its partial files; resume continues where it stopped.',
        params: JobIdParams,
        response: { 200: JobInfo, ...errorResponses(404, 409) },
      },
    },
    async (request) => withRate(await ctx.jobs.pause(request.params.id, tenantOf(request))),
  );

  r.post(
    '/api/v1/jobs/:id/resume',
    {
      config: { role: 'operator', audit: 'job.resume' },
      schema: {
        tags: ['hub'],
        description: 'Queues a paused download again.',
        params: JobIdParams,
        response: { 200: JobInfo, ...errorResponses(404, 409) },
      },
    },
    async (request) => withRate(await ctx.jobs.resume(request.params.id, tenantOf(request))),
  );

  r.get(
    '/api/v1/jobs/:id/events',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['hub'],
        description:
          'Server-sent events of one job: `event: download_progress` (at most ~10 a second) with bytes done/total per file, speed_bps and eta_s, then one of download_completed, download_failed, download_cancelled or download_paused; the stream ends with the job or when it pauses. The current state comes first.',
        params: JobIdParams,
        response: { 200: Type.String({ description: 'text/event-stream' }), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const job = await ctx.jobs.get(request.params.id, tenantOf(request));
      streamJob(request, reply, ctx, job);
      return reply;
    },
  );

  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  app.get(
    '/api/v1/ws',
    {
      websocket: true,
      config: { role: 'viewer' },
      schema: {
        tags: ['hub'],
        description:
          "WebSocket of job messages as JSON: {type: download_progress | download_completed | download_failed | download_paused | download_cancelled, job_id, at, job, speed_bps, eta_s}. `?job_id=` limits it to one job. On connect, the state of every active job is sent first. A tenant key receives its tenant's jobs only, named without the tenant prefix.",
        querystring: Type.Object({ job_id: Type.Optional(Type.String({ maxLength: 64 })) }),
      },
    },
    async (socket, request) => {
      const only = (request.query as { job_id?: string }).job_id;
      const { scope } = request;
      // Socket messages bypass the reply hooks: the tenant filter and the name mapping happen here.
      const send = (message: JobMessage) => {
        if (only && message.job_id !== only) return;
        if (!scope.ownsTenant(message.job.tenant) || socket.readyState !== socket.OPEN) return;
        socket.send(JSON.stringify(scope.displayValue(message)));
      };
      ctx.jobs.on('message', send);
      const close = () => {
        ctx.jobs.off('message', send);
        if (socket.readyState === socket.OPEN) socket.close(1001, 'server shutting down');
      };
      open.add(close);
      socket.on('close', () => {
        ctx.jobs.off('message', send);
        open.delete(close);
      });
      const tenant = tenantOf(request);
      const current = only
        ? [await ctx.jobs.get(only, tenant).catch(() => null)]
        : [
            ...(await ctx.jobs.list({ status: 'running', tenant })),
            ...(await ctx.jobs.list({ status: 'queued', tenant })),
            ...(await ctx.jobs.list({ status: 'paused', tenant })),
          ];
      for (const job of current) if (job) send(messageFor(job, ctx.jobs.rate(job.id)));
    },
  );
}

function streamJob(request: FastifyRequest, reply: FastifyReply, ctx: HangarContext, job: JobInfoType): void {
  const stream = openStream(request, reply, { format: 'sse', keepaliveMs: KEEPALIVE_MS });
  const send = (message: JobMessage) => stream.send({ event: message.type, data: message });
  const close = () => stream.end();
  const listener = (message: JobMessage) => {
    if (message.job_id !== job.id) return;
    send(message);
    if (STREAM_ENDS.has(message.job.status)) close();
  };
  stream.onClose(() => ctx.jobs.off('message', listener));
  ctx.jobs.on('message', listener);
  send(messageFor(job, ctx.jobs.rate(job.id)));
  if (STREAM_ENDS.has(job.status)) close();
}
