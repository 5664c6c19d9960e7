// Integrity routes: validate a version (every file hashed, format requirements), optionally repair it from its hub; read the last report.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HangarContext } from '../context.ts';
import { errorResponses } from '../../schemas/common.ts';
import { ModelNameParams } from '../../schemas/models.ts';
import { IntegrityReport, ValidateQuery } from '../../schemas/integrity.ts';
import { lastIntegrityReport, validateAndRepair } from '../../hub/integrity.ts';
import { actionContext } from '../request-context.ts';
import { NotFound } from '../../errors.ts';

export default async function integrityRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const deps = { db: ctx.database.db, store: ctx.store };

  r.post(
    '/api/v1/models/validate/:name',
    {
      config: { role: 'operator', audit: 'model.validate' },
      schema: {
        tags: ['models'],
        description:
          'Validates a version (name, name:version or name:alias): every file present in the store with its size and recomputed sha256, and what the format needs (ONNX: config.json, a tokenizer, the entry model and its external data; GGUF: a parseable header and tensor data as long as declared). The verdict is stored; an invalid version cannot be loaded (409 integrity_failed) until it validates again. `?repair=true` fetches the bad files again from the hub the version came from and validates again; 409 not_repairable when it was not a hub download or no downloader is configured.',
        params: ModelNameParams,
        querystring: ValidateQuery,
        response: { 200: IntegrityReport, ...errorResponses(400, 404, 409, 502) },
      },
    },
    async (request) => {
      const resolved = await ctx.catalog.resolve(request.params.name);
      return validateAndRepair(deps, resolved, {
        repair: request.query.repair ?? false,
        repairer: ctx.repairer,
        context: actionContext(request),
      });
    },
  );

  r.get(
    '/api/v1/models/:name/integrity',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['models'],
        description:
          'The last stored integrity report of a version (from validate, or the quick check a load runs when it finds files missing); 404 not_validated when it was never checked.',
        params: ModelNameParams,
        response: { 200: IntegrityReport, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const resolved = await ctx.catalog.resolve(request.params.name);
      const report = await lastIntegrityReport(deps.db, resolved.version.id);
      if (!report) {
        throw new NotFound(
          `${resolved.model.name}:${resolved.version.version} has not been validated`,
          { model: resolved.model.name, version: resolved.version.version },
          'not_validated',
        );
      }
      return report;
    },
  );
}
