// Registry routes (seed 001): versions, promotion with demotion, production, rollback, aliases, comparison, history, statistics.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { HangarContext } from '../context.ts';
import { errorResponses, NextPageToken, PageQuery, Nullable } from '../../schemas/common.ts';
import { ModelNameParams, VersionInfo } from '../../schemas/models.ts';
import { actionContext } from '../request-context.ts';
import type { PromotionResult } from '../../registry/registry-service.ts';
import { InvalidInput } from '../../errors.ts';

const VersionParams = Type.Object({ name: Type.String(), version: Type.String({ maxLength: 64, description: 'Version number or alias.' }) });
const AliasParams = Type.Object({ name: Type.String(), alias: Type.String({ maxLength: 64 }) });
const Promotion = Type.Object({ model: Type.String(), production_version: Type.Integer(), previous_version: Nullable(Type.Integer()), changed: Type.Boolean(), action: Type.String(), swapped: Type.Boolean({ description: 'The loaded model now serves the new version.' }) });
const HistoryEntry = Type.Object({ seq: Type.Integer(), action: Type.String(), from_version: Nullable(Type.Integer()), to_version: Nullable(Type.Integer()), actor: Type.String(), reason: Nullable(Type.String()), at: Type.String() });

export default async function registryRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { registry, runtime } = ctx;

  /** Promotion is deployment: a loaded model that follows `name` (not a pinned `name:3`) switches live. */
  async function deploy(request: FastifyRequest, result: PromotionResult) {
    const dep = runtime.deployments.get(result.model);
    if (!result.changed || !dep || dep.state !== 'loaded' || dep.ref !== result.model) return { ...result, swapped: false };
    const from = dep.version?.number ?? null;
    await runtime.reload(result.model);
    await registry.recordSwap(result.model, from, result.production_version, actionContext(request));
    return { ...result, swapped: true };
  }

  r.get('/api/v1/models/:name/versions', {
    config: { role: 'viewer' },
    schema: { tags: ['registry'], description: 'Versions of a model, newest first, with metrics and metadata; page with limit and page_token.', params: ModelNameParams, querystring: Type.Object(PageQuery), response: { 200: Type.Object({ model: Type.String(), versions: Type.Array(VersionInfo), total: Type.Integer(), next_page_token: NextPageToken }), ...errorResponses(400, 404) } },
  }, async (request) => registry.listVersions(request.params.name, request.query.limit ?? 100, request.query.page_token));

  r.post('/api/v1/models/:name/versions', {
    config: { role: 'operator', audit: 'model.import' },
    schema: {
      tags: ['registry'],
      description: 'Registers a new version from a folder or file on the server, with its metrics, parameters, feature names, training facts and lineage. Versions are immutable (but for description and tags).',
      params: ModelNameParams,
      body: Type.Object({
        path: Type.String({ minLength: 1, maxLength: 4096 }),
        description: Type.Optional(Type.String({ maxLength: 4096 })),
        tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32 })),
        metrics: Type.Optional(Type.Record(Type.String(), Type.Number())),
        parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        feature_names: Type.Optional(Type.Array(Type.String(), { maxItems: 10_000 })),
        training: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'e.g. {"dataset_version":"2024-06","duration_s":3600}' })),
        lineage: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'e.g. {"run_id":"…","source_uri":"…"}' })),
      }, { additionalProperties: false }),
      response: { 201: VersionInfo, ...errorResponses(400, 404, 507) },
    },
  }, async (request, reply) => reply.status(201).send(await ctx.catalog.importVersion({ name: request.params.name, ...request.body }, actionContext(request))));

  r.get('/api/v1/models/:name/versions/:version', {
    config: { role: 'viewer' },
    schema: { tags: ['registry'], description: 'One version (by number or alias).', params: VersionParams, response: { 200: VersionInfo, ...errorResponses(400, 404) } },
  }, async (request) => registry.getVersion(request.params.name, request.params.version));

  r.patch('/api/v1/models/:name/versions/:version', {
    config: { role: 'operator', audit: 'version.update' },
    schema: { tags: ['registry'], description: 'Changes a version\'s description or tags, the only mutable fields.', params: VersionParams, body: Type.Object({ description: Type.Optional(Nullable(Type.String({ maxLength: 4096 }))), tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32 })) }, { additionalProperties: false }), response: { 200: VersionInfo, ...errorResponses(400, 404) } },
  }, async (request) => registry.updateVersion(request.params.name, request.params.version, request.body, actionContext(request)));

  r.post('/api/v1/models/:name/promote/:version', {
    config: { role: 'admin', audit: 'model.promote' },
    schema: {
      tags: ['registry'],
      description: 'Makes the version production and demotes the previous production version in the same transaction. `expected_current_version` makes it a compare-and-set (409 version_conflict when production moved). A loaded model switches to the new version live (load new, switch, drain, unload old).',
      params: VersionParams,
      // A missing body arrives as null.
      body: Nullable(Type.Object({ user_id: Type.Optional(Type.String({ maxLength: 128 })), reason: Type.Optional(Type.String({ maxLength: 4096 })), expected_current_version: Type.Optional(Nullable(Type.Integer({ minimum: 1 }))) }, { additionalProperties: false })),
      response: { 200: Promotion, ...errorResponses(400, 404, 409) },
    },
  }, async (request) => deploy(request, await registry.promote(request.params.name, request.params.version, request.body ?? {}, actionContext(request))));

  r.post('/api/v1/models/:name/rollback', {
    config: { role: 'admin', audit: 'model.rollback' },
    schema: { tags: ['registry'], description: 'Makes the previous production version production again (409 no_previous_version when there is none).', params: ModelNameParams, body: Nullable(Type.Object({ user_id: Type.Optional(Type.String({ maxLength: 128 })), reason: Type.Optional(Type.String({ maxLength: 4096 })) }, { additionalProperties: false })), response: { 200: Promotion, ...errorResponses(400, 404, 409) } },
  }, async (request) => deploy(request, await registry.rollback(request.params.name, request.body ?? {}, actionContext(request))));

  r.get('/api/v1/models/:name/production', {
    config: { role: 'viewer' },
    schema: { tags: ['registry'], description: 'The production version with its metrics and when and by whom it was promoted (404 no_production_version).', params: ModelNameParams, response: { 200: Type.Intersect([VersionInfo, Type.Object({ promoted_at: Nullable(Type.String()), promoted_by: Nullable(Type.String()) })]), ...errorResponses(400, 404) } },
  }, async (request) => registry.production(request.params.name));

  r.put('/api/v1/models/:name/aliases/:alias', {
    config: { role: 'admin', audit: 'alias.set' },
    schema: { tags: ['registry'], description: 'Points an alias (e.g. staging) at a version; `production` is a promotion.', params: AliasParams, body: Type.Object({ version: Type.Union([Type.Integer({ minimum: 1 }), Type.String({ maxLength: 64 })]) }, { additionalProperties: false }), response: { 200: Type.Object({ model: Type.String(), alias: Type.String(), version: Type.Integer() }), ...errorResponses(400, 404, 409) } },
  }, async (request) => registry.setAlias(request.params.name, request.params.alias, String(request.body.version), actionContext(request)));

  r.delete('/api/v1/models/:name/aliases/:alias', {
    config: { role: 'admin', audit: 'alias.delete' },
    schema: { tags: ['registry'], description: 'Removes an alias.', params: AliasParams, response: { 200: Type.Object({ model: Type.String(), alias: Type.String(), deleted: Type.Boolean() }), ...errorResponses(400, 404) } },
  }, async (request) => registry.deleteAlias(request.params.name, request.params.alias, actionContext(request)));

  r.get('/api/v1/models/:name/compare', {
    config: { role: 'viewer' },
    schema: {
      tags: ['registry'],
      description: 'Versions side by side with their metrics; `versions=1,2` picks some, `metric=accuracy&order=desc` sorts and names the best.',
      params: ModelNameParams,
      querystring: Type.Object({ versions: Type.Optional(Type.String({ pattern: '^[0-9]+(,[0-9]+)*$' })), metric: Type.Optional(Type.String({ maxLength: 128 })), order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' })) }),
      response: { 200: Type.Object({ model: Type.String(), metric: Nullable(Type.String()), order: Type.String(), best: Nullable(Type.Integer()), versions: Type.Array(Type.Object({ version: Type.Integer(), metrics: Type.Record(Type.String(), Type.Number()), value: Nullable(Type.Number()), created_at: Type.String(), quantization: Nullable(Type.String()), size_bytes: Type.Integer() })) }), ...errorResponses(400, 404) },
    },
  }, async (request) => registry.compare(request.params.name, request.query.versions?.split(',').map(Number), request.query.metric, request.query.order ?? 'desc'));

  r.get('/api/v1/models/:name/deployment-history', {
    config: { role: 'viewer' },
    schema: { tags: ['registry'], description: 'Every promotion, demotion, rollback and live swap, newest first, with actor, reason, time, from and to version.', params: ModelNameParams, querystring: Type.Object(PageQuery), response: { 200: Type.Object({ model: Type.String(), events: Type.Array(HistoryEntry), next_page_token: NextPageToken }), ...errorResponses(400, 404) } },
  }, async (request) => registry.history(request.params.name, request.query.limit ?? 100, request.query.page_token));

  r.get('/api/v1/models/statistics/registry', {
    config: { role: 'viewer' },
    schema: { tags: ['registry'], description: 'Registry totals and the average of each metric over production versions.', response: { 200: Type.Object({ total_models: Type.Integer(), total_versions: Type.Integer(), models_in_production: Type.Integer(), average_versions_per_model: Type.Number(), average_production_metrics: Type.Record(Type.String(), Type.Number()), versions_by_format: Type.Record(Type.String(), Type.Integer()) }) } },
  }, async () => registry.statistics());

  r.post('/api/v1/models/validate-version', {
    config: { role: 'viewer' },
    schema: { tags: ['registry'], description: 'Checks a version reference (seed 003): its syntax, and with model_name whether it exists and what it resolves to.', body: Type.Object({ model_name: Type.Optional(Type.String({ maxLength: 128 })), version: Type.Union([Type.String({ maxLength: 128 }), Type.Integer()]) }, { additionalProperties: false }), response: { 200: Type.Object({ valid: Type.Boolean(), reason: Nullable(Type.String()), resolved_version: Nullable(Type.Integer()) }), ...errorResponses(400) } },
  }, async (request) => {
    if (String(request.body.version).length === 0) throw new InvalidInput('version is empty', { field: 'body.version' });
    return registry.validateVersion(request.body.model_name, String(request.body.version));
  });
}
