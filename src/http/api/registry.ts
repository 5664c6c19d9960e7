// Registry routes (seed 001): versions, promotion with demotion, production, rollback, aliases, comparison, history, statistics.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { HangarContext } from '../context.ts';
import { errorResponses, PageQuery, Nullable } from '../../schemas/common.ts';
import { ModelNameParams, VersionInfo } from '../../schemas/models.ts';
import {
  AliasDeleted,
  AliasInfo,
  AliasParams,
  CompareQuery,
  CreateVersionRequest,
  DeploymentHistory,
  ProductionVersion,
  Promotion,
  PromoteRequest,
  RegistryStatistics,
  RollbackRequest,
  SetAliasRequest,
  UpdateVersionRequest,
  ValidateVersionRequest,
  VersionComparison,
  VersionList,
  VersionParams,
  VersionValidation,
} from '../../schemas/registry.ts';
import { actionContext } from '../request-context.ts';
import { InvalidInput } from '../../errors.ts';

export default async function registryRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { registry } = ctx;

  r.get(
    '/api/v1/models/:name/versions',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['registry'],
        description: 'Versions of a model, newest first, with metrics and metadata; page with limit and page_token.',
        params: ModelNameParams,
        querystring: Type.Object(PageQuery),
        response: { 200: VersionList, ...errorResponses(400, 404) },
      },
    },
    async (request) => registry.listVersions(request.params.name, request.query.limit ?? 100, request.query.page_token),
  );

  r.post(
    '/api/v1/models/:name/versions',
    {
      config: { role: 'operator', audit: 'model.import' },
      schema: {
        tags: ['registry'],
        description:
          'Registers a new version from a folder or file on the server, with its metrics, parameters, feature names, training facts and lineage. Versions are immutable (but for description and tags).',
        params: ModelNameParams,
        body: CreateVersionRequest,
        response: { 201: VersionInfo, ...errorResponses(400, 404, 507) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await ctx.app.models.importVersion({ name: request.params.name, ...request.body }, actionContext(request))),
  );

  r.get(
    '/api/v1/models/:name/versions/:version',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['registry'],
        description: 'One version (by number or alias).',
        params: VersionParams,
        response: { 200: VersionInfo, ...errorResponses(400, 404) },
      },
    },
    async (request) => registry.getVersion(request.params.name, request.params.version),
  );

  r.patch(
    '/api/v1/models/:name/versions/:version',
    {
      config: { role: 'operator', audit: 'version.update' },
      schema: {
        tags: ['registry'],
        description: "Changes a version's description or tags, the only mutable fields.",
        params: VersionParams,
        body: UpdateVersionRequest,
        response: { 200: VersionInfo, ...errorResponses(400, 404) },
      },
    },
    async (request) => registry.updateVersion(request.params.name, request.params.version, request.body, actionContext(request)),
  );

  r.post(
    '/api/v1/models/:name/promote/:version',
    {
      config: { role: 'admin', audit: 'model.promote' },
      schema: {
        tags: ['registry'],
        description:
          'Makes the version production and demotes the previous production version in the same transaction. `expected_current_version` makes it a compare-and-set (409 version_conflict when production moved). A loaded model switches to the new version live (load new, switch, drain, unload old).',
        params: VersionParams,
        // A missing body arrives as null.
        body: Nullable(PromoteRequest),
        response: { 200: Promotion, ...errorResponses(400, 404, 409) },
      },
    },
    async (request) => ctx.app.promotions.promote(request.params.name, request.params.version, request.body ?? {}, actionContext(request)),
  );

  r.post(
    '/api/v1/models/:name/rollback',
    {
      config: { role: 'admin', audit: 'model.rollback' },
      schema: {
        tags: ['registry'],
        description: 'Makes the previous production version production again (409 no_previous_version when there is none).',
        params: ModelNameParams,
        body: Nullable(RollbackRequest),
        response: { 200: Promotion, ...errorResponses(400, 404, 409) },
      },
    },
    async (request) => ctx.app.promotions.rollback(request.params.name, request.body ?? {}, actionContext(request)),
  );

  r.get(
    '/api/v1/models/:name/production',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['registry'],
        description: 'The production version with its metrics and when and by whom it was promoted (404 no_production_version).',
        params: ModelNameParams,
        response: { 200: ProductionVersion, ...errorResponses(400, 404) },
      },
    },
    async (request) => registry.production(request.params.name),
  );

  r.put(
    '/api/v1/models/:name/aliases/:alias',
    {
      config: { role: 'admin', audit: 'alias.set' },
      schema: {
        tags: ['registry'],
        description: 'Points an alias (e.g. staging) at a version; `production` is a promotion.',
        params: AliasParams,
        body: SetAliasRequest,
        response: { 200: AliasInfo, ...errorResponses(400, 404, 409) },
      },
    },
    async (request) => registry.setAlias(request.params.name, request.params.alias, String(request.body.version), actionContext(request)),
  );

  r.delete(
    '/api/v1/models/:name/aliases/:alias',
    {
      config: { role: 'admin', audit: 'alias.delete' },
      schema: {
        tags: ['registry'],
        description: 'Removes an alias.',
        params: AliasParams,
        response: { 200: AliasDeleted, ...errorResponses(400, 404) },
      },
    },
    async (request) => registry.deleteAlias(request.params.name, request.params.alias, actionContext(request)),
  );

  r.get(
    '/api/v1/models/:name/compare',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['registry'],
        description:
          'Versions side by side with their metrics; `versions=1,2` picks some, `metric=accuracy&order=desc` sorts and names the best.',
        params: ModelNameParams,
        querystring: CompareQuery,
        response: { 200: VersionComparison, ...errorResponses(400, 404) },
      },
    },
    async (request) =>
      registry.compare(
        request.params.name,
        request.query.versions?.split(',').map(Number),
        request.query.metric,
        request.query.order ?? 'desc',
      ),
  );

  r.get(
    '/api/v1/models/:name/deployment-history',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['registry'],
        description: 'Every promotion, demotion, rollback and live swap, newest first, with actor, reason, time, from and to version.',
        params: ModelNameParams,
        querystring: Type.Object(PageQuery),
        response: { 200: DeploymentHistory, ...errorResponses(400, 404) },
      },
    },
    async (request) => registry.history(request.params.name, request.query.limit ?? 100, request.query.page_token),
  );

  r.get(
    '/api/v1/models/statistics/registry',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['registry'],
        description: "Registry totals and the average of each metric over production versions (a tenant key: of its tenant's models).",
        response: { 200: RegistryStatistics },
      },
    },
    async (request) => registry.statistics(request.scope.tenant ?? undefined),
  );

  r.post(
    '/api/v1/models/validate-version',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['registry'],
        description: 'Checks a version reference (seed 003): its syntax, and with model_name whether it exists and what it resolves to.',
        body: ValidateVersionRequest,
        response: { 200: VersionValidation, ...errorResponses(400) },
      },
    },
    async (request) => {
      if (String(request.body.version).length === 0) throw new InvalidInput('version is empty', { field: 'body.version' });
      return registry.validateVersion(request.body.model_name, String(request.body.version));
    },
  );
}
