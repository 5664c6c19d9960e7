// Model list entries: version counts, production version and the current version's facts, for a page of models in few queries.
import type { Kysely, Transaction } from 'kysely';
import type { Database, ModelRow } from '../db/schema.ts';
import type { ModelSummary } from '../schemas/models.ts';
import { toModelSummary } from './model-rows.ts';
import { PRODUCTION_ALIAS } from './model-name.ts';

type Executor = Kysely<Database> | Transaction<Database>;

/** One summary per model, in the given order. */
export async function summarizeModels(db: Executor, models: ModelRow[]): Promise<ModelSummary[]> {
  if (models.length === 0) return [];
  const ids = models.map((m) => m.id);
  const stats = await db
    .selectFrom('model_versions')
    .select((eb) => ['model_id', eb.fn.countAll().as('count'), eb.fn.max('version').as('latest')])
    .where('model_id', 'in', ids)
    .groupBy('model_id')
    .execute();
  const production = await db
    .selectFrom('model_aliases')
    .innerJoin('model_versions', 'model_versions.id', 'model_aliases.version_id')
    .select(['model_aliases.model_id', 'model_versions.version'])
    .where('model_aliases.model_id', 'in', ids)
    .where('model_aliases.alias', '=', PRODUCTION_ALIAS)
    .execute();
  const statsById = new Map(
    stats.map((s) => [s.model_id, { count: Number(s.count), latest: s.latest === null ? null : Number(s.latest) }]),
  );
  const productionById = new Map(production.map((p) => [p.model_id, p.version]));
  const currentKeys = models.map((m) => ({ id: m.id, version: productionById.get(m.id) ?? statsById.get(m.id)?.latest ?? null }));
  const wanted = currentKeys.filter((k) => k.version !== null);
  const currentRows = wanted.length
    ? await db
        .selectFrom('model_versions')
        .selectAll()
        .where((eb) => eb.or(wanted.map((k) => eb.and([eb('model_id', '=', k.id), eb('version', '=', k.version as number)]))))
        .execute()
    : [];
  const currentById = new Map(currentRows.map((r) => [r.model_id, r]));
  return models.map((m) =>
    toModelSummary(
      m,
      {
        versionCount: statsById.get(m.id)?.count ?? 0,
        latestVersion: statsById.get(m.id)?.latest ?? null,
        productionVersion: productionById.get(m.id) ?? null,
      },
      currentById.get(m.id),
    ),
  );
}
