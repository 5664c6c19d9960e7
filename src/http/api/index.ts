// Hangar's own HTTP surface: the canonical /api/v1 routes and the seed root paths, one routes file per resource.
import type { FastifyInstance } from 'fastify';
import type { HangarContext } from '../context.ts';
import healthRoutes from './health.ts';
import modelRoutes from './models.ts';
import auditRoutes from './audit.ts';
import runtimeRoutes from './runtime.ts';
import inferenceRoutes from './inference.ts';
import configRoutes from './config.ts';
import keyRoutes from './keys.ts';
import monitoringRoutes from './monitoring.ts';
import registryRoutes from './registry.ts';
import eventRoutes from './events.ts';
import integrityRoutes from './integrity.ts';
import estimateRoutes from './estimate.ts';
import hubRoutes from './hub.ts';
import quantizeRoutes from './quantize.ts';
import tenantRoutes from './tenants.ts';

export default async function hangarApi(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  await app.register(healthRoutes, ctx);
  await app.register(modelRoutes, ctx);
  await app.register(auditRoutes, ctx);
  await app.register(runtimeRoutes, ctx);
  await app.register(inferenceRoutes, ctx);
  await app.register(configRoutes, ctx);
  await app.register(keyRoutes, ctx);
  await app.register(monitoringRoutes, ctx);
  await app.register(registryRoutes, ctx);
  await app.register(eventRoutes, ctx);
  await app.register(integrityRoutes, ctx);
  await app.register(estimateRoutes, ctx);
  await app.register(hubRoutes, ctx);
  await app.register(quantizeRoutes, ctx);
  await app.register(tenantRoutes, ctx);
}
