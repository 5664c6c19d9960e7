// Health endpoints: seed 000's /health, plus liveness and readiness probes for supervisors.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { HealthResponse, ProbeResponse } from '../../schemas/health.ts';
import type { HangarContext } from '../context.ts';
import { pingDatabase } from '../../db/database.ts';
import { LATEST_SCHEMA_VERSION } from '../../db/migrate.ts';
import { countTenantModels } from '../../tenants/tenant-store.ts';

export const MANAGEMENT_API_VERSION = '1.0.0';
const DB_PING_TIMEOUT_MS = 2000;

/** "2h 15m" style, as seed 000 shows it. */
export function formatUptime(totalSeconds: number): string {
  const days = Math.floor(totalSeconds / 86400);
  const hours = Math.floor((totalSeconds % 86400) / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = Math.floor(totalSeconds % 60);
  if (days > 0) return `${days}d ${hours}h ${minutes}m`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m ${seconds}s`;
  return `${seconds}s`;
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function databaseProblem(ctx: HangarContext): Promise<string | null> {
  try {
    await withTimeout(pingDatabase(ctx.database.db), DB_PING_TIMEOUT_MS, 'database');
    return null;
  } catch (error) {
    return `database (${ctx.database.dialect}): ${(error as Error).message}`;
  }
}

export default async function healthRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/health',
    {
      config: { role: 'public' },
      schema: {
        tags: ['health'],
        description:
          "Overall health (seed 000): status, API version, uptime and the number of models managed (a tenant's key: its own; the server's warnings are for system keys). `degraded` lists reasons.",
        response: { 200: HealthResponse },
      },
    },
    async (request) => {
      const uptimeSeconds = Math.floor((Date.now() - ctx.startedAt) / 1000);
      const reasons = [...(ctx.state.ready ? [] : ctx.state.notReadyReasons)];
      const dbProblem = await databaseProblem(ctx);
      if (dbProblem) reasons.push(dbProblem);
      const tenant = request.scope.tenant;
      let modelsManaged: number | undefined;
      if (!dbProblem) {
        const counting = tenant === null ? ctx.catalog.countModels() : countTenantModels(ctx.database.db, tenant);
        modelsManaged = await counting.catch(() => undefined);
      }
      const status = reasons.length === 0 ? ('healthy' as const) : ('degraded' as const);
      // With auth on, a caller without a key learns only whether the server is healthy.
      if (ctx.settings.current.management_auth_enabled && request.role === null) return { status };
      return {
        status,
        management_api_version: MANAGEMENT_API_VERSION,
        uptime: formatUptime(uptimeSeconds),
        uptime_seconds: uptimeSeconds,
        ...(modelsManaged === undefined ? {} : { models_managed: modelsManaged }),
        version: ctx.version,
        database: { dialect: ctx.database.dialect, ok: dbProblem === null, schema_version: LATEST_SCHEMA_VERSION },
        ...(reasons.length ? { reasons } : {}),
        ...(ctx.state.warnings.length && tenant === null ? { warnings: ctx.state.warnings } : {}),
      };
    },
  );

  r.get(
    '/health/live',
    {
      config: { role: 'public' },
      schema: {
        tags: ['health'],
        description: 'Liveness: 200 while the process serves requests.',
        response: { 200: ProbeResponse },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  r.get(
    '/health/ready',
    {
      config: { role: 'public' },
      schema: {
        tags: ['health'],
        description: 'Readiness: 200 once start-up is done and the database answers, else 503 with reasons.',
        response: { 200: ProbeResponse, 503: ProbeResponse },
      },
    },
    async (_request, reply) => {
      const reasons = [...(ctx.state.ready ? [] : ctx.state.notReadyReasons)];
      const dbProblem = await databaseProblem(ctx);
      if (dbProblem) reasons.push(dbProblem);
      if (reasons.length) return reply.status(503).send({ status: 'unavailable', reasons });
      return { status: 'ok' as const };
    },
  );
}
