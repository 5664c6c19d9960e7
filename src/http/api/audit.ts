// Audit log route: who changed what, when, with which outcome.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HangarContext } from '../context.ts';
import { errorResponses } from '../../schemas/common.ts';
import { AuditList, AuditQuerySchema } from '../../schemas/audit.ts';
import { listAuditEvents } from '../../registry/audit.ts';

export default async function auditRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/api/v1/audit',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['audit'],
        description:
          "Audit events, newest first. Filter by actor, action, target, outcome, tenant and time range (since inclusive, until exclusive); page with limit and page_token. A tenant key reads its tenant's log only, where `target` also matches the model names it knows without the tenant prefix.",
        querystring: AuditQuerySchema,
        response: { 200: AuditList, ...errorResponses(400) },
      },
    },
    async (request) => {
      const { limit, page_token, tenant, ...filters } = request.query;
      const own = request.scope.tenant;
      // A tenant's caller asking for another tenant's log gets what that intersection holds: nothing.
      if (own !== null && tenant !== undefined && tenant !== own) return { events: [], next_page_token: null };
      return listAuditEvents(ctx.database.db, { ...filters, tenant: own ?? tenant, limit: limit ?? 100, pageToken: page_token });
    },
  );
}
