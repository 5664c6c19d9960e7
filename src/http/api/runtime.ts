// Runtime control and status routes: load, unload, reload (seed 000 root paths, seed 003 paths and /api/v1), model status.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { HangarContext } from '../context.ts';
import { errorResponses } from '../../schemas/common.ts';
import { ModelNameParams } from '../../schemas/models.ts';
import { LoadBody, type LoadOptions, ModelStatus, SeedLoadRequest, SeedModelList, StatusMap, WaitQuery } from '../../schemas/runtime.ts';
import { actionContext } from '../request-context.ts';
import type { RuntimeOperation } from '../../app/runtime-control.ts';

type Operation = RuntimeOperation;

export default async function runtimeRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { runtime } = ctx;

  /** wait=false: answer 202 as soon as the load has started (unknown models still get 404 first). */
  async function control(request: FastifyRequest, op: Operation, name: string, options: LoadOptions, wait: boolean) {
    const { quantization, ...rest } = options;
    const result =
      op === 'load' && quantization !== undefined
        ? await ctx.app.quantization.load(name, quantization, rest, actionContext(request), wait)
        : await ctx.app.runtime.control(op, name, rest, actionContext(request), wait);
    return result.done ? result.status : { accepted: true as const, status: result.status };
  }

  const describe: Record<Operation, string> = {
    load: "Loads the model (name, name:version or name:alias) into its own runner process. Idempotent; concurrent loads share one runner. Evicts idle models (expired keep-alive first, then least recently used) when memory is short, never a pinned one, and another tenant's only while the caller's tenant is within its share; 409 insufficient_memory when that is not enough. 409 quota_exceeded (nothing changed) when the tenant's loaded_models, ram_mb or vram_mb quota would be passed. `?wait=false` answers 202 while loading.",
    unload: 'Unloads the model: waits for in-flight requests, stops its runner process. Idempotent.',
    reload:
      'Reloads without downtime: starts a new runner (re-resolving the name, so it picks up a new production version), switches traffic, drains and stops the old one. A failed reload leaves the old runner serving.',
  };

  for (const prefix of ['/models', '/api/v1/models']) {
    for (const op of ['load', 'unload', 'reload'] as const) {
      r.post(
        `${prefix}/:name/${op}`,
        {
          config: { role: 'operator', audit: `model.${op}` },
          schema: {
            tags: ['runtime'],
            description: describe[op],
            params: ModelNameParams,
            querystring: WaitQuery,
            body: Type.Optional(LoadBody),
            response: {
              200: ModelStatus,
              202: Type.Object({ accepted: Type.Literal(true), status: ModelStatus }),
              ...errorResponses(400, 404, 409, 422, 500, 502, 503),
            },
          },
        },
        async (request, reply) => {
          const result = await control(request, op, request.params.name, request.body ?? {}, request.query.wait ?? true);
          return 'accepted' in result ? reply.status(202).send(result) : result;
        },
      );
    }
  }

  r.post(
    '/api/v1/models/load',
    {
      config: { role: 'operator', audit: 'model.load' },
      schema: {
        tags: ['runtime'],
        description: `Seed 003 form of load: {"model_name", …options}. ${describe.load}`,
        querystring: WaitQuery,
        body: SeedLoadRequest,
        response: {
          200: ModelStatus,
          202: Type.Object({ accepted: Type.Literal(true), status: ModelStatus }),
          ...errorResponses(400, 404, 409, 422, 500, 503),
        },
      },
    },
    async (request, reply) => {
      const { model_name, ...options } = request.body;
      const result = await control(request, 'load', model_name, options, request.query.wait ?? true);
      return 'accepted' in result ? reply.status(202).send(result) : result;
    },
  );

  r.delete(
    '/api/v1/models/:name/unload',
    {
      config: { role: 'operator', audit: 'model.unload' },
      schema: {
        tags: ['runtime'],
        description: `Seed 003 form of unload. ${describe.unload}`,
        params: ModelNameParams,
        response: { 200: ModelStatus, ...errorResponses(400, 404) },
      },
    },
    async (request) => ctx.app.runtime.unload(request.params.name, actionContext(request)),
  );

  for (const path of ['/models/status', '/api/v1/models/status']) {
    r.get(
      path,
      {
        config: { role: 'viewer' },
        schema: {
          tags: ['runtime'],
          description:
            "Status of every model in the catalog, loaded or not: state, device, GPU, memory measured from the runner process, last inference, keep-alive expiry, pid, in-flight requests, version, backend. A tenant's key sees its tenant's models only.",
          response: { 200: StatusMap },
        },
      },
      async (request) => ({ models: await runtime.statusAll(request.scope.tenant ?? undefined) }),
    );
  }

  r.get(
    '/api/v1/models/status/:name',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['runtime'],
        description: 'Status of one model (seed 002 form).',
        params: ModelNameParams,
        response: { 200: ModelStatus, ...errorResponses(400, 404) },
      },
    },
    async (request) => runtime.status(request.params.name),
  );

  r.get(
    '/api/v1/models/:name/status',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['runtime'],
        description: 'Status of one model (seed 003 form).',
        params: ModelNameParams,
        response: { 200: ModelStatus, ...errorResponses(400, 404) },
      },
    },
    async (request) => runtime.status(request.params.name),
  );

  r.get(
    '/api/v1/models/list',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['runtime'],
        description: "Seed 003 listing: every model with its runtime status, and how many are loaded (a tenant's key: its own).",
        response: { 200: SeedModelList },
      },
    },
    async (request) => {
      const models = Object.values(await runtime.statusAll(request.scope.tenant ?? undefined));
      return { models, total: models.length, loaded: models.filter((m) => m.status === 'loaded').length };
    },
  );
}
