// Configuration routes: the effective configuration with sources, its JSON schema, and live changes by JSON merge patch.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { HangarContext } from '../context.ts';
import { errorResponses } from '../../schemas/common.ts';
import { RESTART_REQUIRED } from '../../config/schema.ts';
import { ConfigView, PatchResult } from '../../schemas/config.ts';
import { configJsonSchema } from '../../config/settings.ts';
import { recordAuditEvent } from '../../registry/audit.ts';
import { actionContext } from '../request-context.ts';

export default async function configRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const view = () => ({
    ...ctx.settings.redacted(),
    _meta: { sources: { ...ctx.settings.sources }, config_file: ctx.settings.configFile, restart_required_keys: [...RESTART_REQUIRED] },
  });

  async function patch(request: FastifyRequest) {
    const result = await ctx.settings.applyPatch(request.body);
    await recordAuditEvent(ctx.database.db, actionContext(request), {
      action: 'config.update',
      target: 'config',
      outcome: 'success',
      details: { changes: result.applied, restart_required: result.restart_required, overridden: result.overridden },
    });
    return { ...result, config: view() };
  }

  for (const prefix of ['', '/api/v1']) {
    r.get(
      `${prefix}/config`,
      {
        config: { role: 'viewer', system: true },
        schema: {
          tags: ['config'],
          description:
            'The effective configuration: seed-000 settings at the top level under their environment names in lower case, grouped settings nested; `_meta.sources` says where each value came from. Secrets are redacted. System keys only (a tenant key gets 403).',
          response: { 200: ConfigView, ...errorResponses(401, 403) },
        },
      },
      async () => view(),
    );

    r.patch(
      `${prefix}/config`,
      {
        config: { role: 'admin', audit: 'config.update', system: true },
        schema: {
          tags: ['config'],
          description:
            "Changes settings with a JSON merge patch (null resets a setting to its lower source). Validated as a whole: 400 naming every bad key and nothing applied. Applied live where possible (rate limits, keep-alive, memory budgets, eviction, log level, metrics, dynamic loading, auth, CORS); `restart_required` lists the rest. Saved to the config file atomically; environment variables still win (`overridden`). System admin keys only: a tenant's admin key gets 403.",
          body: Type.Record(Type.String(), Type.Unknown(), { description: 'A JSON merge patch of the configuration.' }),
          response: { 200: PatchResult, ...errorResponses(400, 401, 403) },
        },
      },
      async (request) => patch(request),
    );
  }

  r.get(
    '/api/v1/config/schema',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['config'],
        description: 'The JSON schema of the configuration: types, allowed values, defaults and descriptions.',
        response: { 200: Type.Record(Type.String(), Type.Unknown()) },
      },
    },
    async () => configJsonSchema(),
  );
}
