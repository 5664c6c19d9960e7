// Tenant management (system administrators): create, list, read, change quotas and delete tenants.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { HangarContext } from '../context.ts';
import { errorResponses } from '../../schemas/common.ts';
import { CreateTenantRequest, TenantInfo, TenantParams, UpdateTenantRequest } from '../../schemas/tenants.ts';
import { actionContext } from '../request-context.ts';
import { parseTenantName } from '../../tenants/tenant-names.ts';

export default async function tenantRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/api/v1/tenants',
    {
      config: { role: 'admin', system: true, audit: 'tenant.create' },
      schema: {
        tags: ['tenants'],
        description:
          'Creates a tenant with optional quotas (a missing quota is unlimited). Its models, keys, jobs, webhooks and audit log are its own; names are unique within it.',
        body: CreateTenantRequest,
        response: { 201: TenantInfo, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => reply.status(201).send(await ctx.tenants.create(request.body, actionContext(request))),
  );

  r.get(
    '/api/v1/tenants',
    {
      config: { role: 'admin', system: true },
      schema: {
        tags: ['tenants'],
        description: 'Every tenant with its quotas and what it uses now.',
        response: { 200: Type.Object({ tenants: Type.Array(TenantInfo) }), ...errorResponses(401, 403) },
      },
    },
    async () => ({ tenants: await ctx.tenants.list() }),
  );

  r.get(
    '/api/v1/tenants/:tenant',
    {
      config: { role: 'admin', system: true },
      schema: {
        tags: ['tenants'],
        description: 'One tenant: quotas and current use (models, stored bytes, loaded models, RAM, VRAM, downloads).',
        params: TenantParams,
        response: { 200: TenantInfo, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => ctx.tenants.get(parseTenantName(request.params.tenant)),
  );

  r.patch(
    '/api/v1/tenants/:tenant',
    {
      config: { role: 'admin', system: true, audit: 'tenant.update' },
      schema: {
        tags: ['tenants'],
        description:
          'Changes the description or quotas; a quota set to null is removed (unlimited). Lower limits apply to what is taken next, never by evicting.',
        params: TenantParams,
        body: UpdateTenantRequest,
        response: { 200: TenantInfo, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => ctx.tenants.update(parseTenantName(request.params.tenant), request.body, actionContext(request)),
  );

  r.delete(
    '/api/v1/tenants/:tenant',
    {
      config: { role: 'admin', system: true, audit: 'tenant.delete' },
      schema: {
        tags: ['tenants'],
        description:
          'Deletes a tenant that owns no models, active keys or webhooks any more (409 tenant_not_empty says what is left). The default tenant stays.',
        params: TenantParams,
        response: { 200: Type.Object({ deleted: Type.String() }), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => ctx.tenants.delete(parseTenantName(request.params.tenant), actionContext(request)),
  );
}
