// Registry reads: version pages with their aliases, the production version, deployment history, comparison and statistics; each takes the database first.
import type { ModelRow } from '../db/schema.ts';
import type { Executor } from './catalog-queries.ts';
import { NotFound } from '../errors.ts';
import { PRODUCTION_ALIAS as PRODUCTION } from './model-name.ts';
import { decodePageToken, encodePageToken } from './page-token.ts';
import { parseJson, toVersionInfo } from './model-rows.ts';
import { countBy } from '../count-by.ts';
import type { DeploymentHistory, RegistryStatistics, VersionComparison, VersionList } from '../schemas/registry.ts';

/** The production version of a model, or null when it has none. */
export interface ProductionPointer {
  versionId: string;
  version: number;
}

/** The aliases of each version of a model, by version id. */
export async function aliasesByVersion(db: Executor, modelId: string): Promise<Map<string, string[]>> {
  const rows = await db.selectFrom('model_aliases').select(['alias', 'version_id']).where('model_id', '=', modelId).execute();
  const byVersion = new Map<string, string[]>();
  for (const r of rows) byVersion.set(r.version_id, [...(byVersion.get(r.version_id) ?? []), r.alias]);
  return byVersion;
}

/** Newest first, keyset-paginated on the version number. */
export async function versionPage(db: Executor, model: ModelRow, limit: number, pageToken?: string): Promise<VersionList> {
  let query = db.selectFrom('model_versions').selectAll().where('model_id', '=', model.id);
  if (pageToken) query = query.where('version', '<', Number(decodePageToken(pageToken, ['version'] as const).version));
  // Three independent reads: on PostgreSQL each takes its own pooled connection, so the page waits for one round trip, not three.
  const [rows, total, aliases] = await Promise.all([
    query
      .orderBy('version', 'desc')
      .limit(limit + 1)
      .execute(),
    db
      .selectFrom('model_versions')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('model_id', '=', model.id)
      .executeTakeFirst(),
    aliasesByVersion(db, model.id),
  ]);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    model: model.name,
    versions: page.map((row) => toVersionInfo(model, row, aliases.get(row.id) ?? [])),
    total: Number(total?.n ?? 0),
    next_page_token: rows.length > limit && last ? encodePageToken({ version: last.version }) : null,
  };
}

export async function productionOf(db: Executor, modelId: string): Promise<ProductionPointer | null> {
  const row = await db
    .selectFrom('model_aliases')
    .innerJoin('model_versions', 'model_versions.id', 'model_aliases.version_id')
    .select(['model_versions.id', 'model_versions.version'])
    .where('model_aliases.model_id', '=', modelId)
    .where('model_aliases.alias', '=', PRODUCTION)
    .executeTakeFirst();
  return row ? { versionId: row.id, version: row.version } : null;
}

/** The newest promotion or rollback of a model: what a rollback undoes. */
export async function lastPromotion(
  db: Executor,
  modelId: string,
): Promise<{ from_version: number | null; to_version: number | null } | undefined> {
  return db
    .selectFrom('deployment_events')
    .select(['from_version', 'to_version'])
    .where('model_id', '=', modelId)
    .where('action', 'in', ['promote', 'rollback'])
    .orderBy('seq', 'desc')
    .executeTakeFirst();
}

/** When and by whom `version` last became the target of a deployment event. */
export async function lastEventTo(db: Executor, modelId: string, version: number): Promise<{ at: string; actor: string } | undefined> {
  return db
    .selectFrom('deployment_events')
    .select(['at', 'actor'])
    .where('model_id', '=', modelId)
    .where('to_version', '=', version)
    .orderBy('seq', 'desc')
    .executeTakeFirst();
}

/** Every promotion, demotion and rollback, newest first. */
export async function historyPage(db: Executor, model: ModelRow, limit: number, pageToken?: string): Promise<DeploymentHistory> {
  let query = db
    .selectFrom('deployment_events')
    .select(['seq', 'action', 'from_version', 'to_version', 'actor', 'reason', 'at'])
    .where('model_id', '=', model.id);
  if (pageToken) query = query.where('seq', '<', Number(decodePageToken(pageToken, ['seq'] as const).seq));
  const rows = await query
    .orderBy('seq', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { model: model.name, events: page, next_page_token: rows.length > limit && last ? encodePageToken({ seq: last.seq }) : null };
}

/** Versions side by side with their metrics, sorted by `metric` when given. */
export async function compareVersions(
  db: Executor,
  model: ModelRow,
  versions: number[] | undefined,
  metric: string | undefined,
  order: 'asc' | 'desc',
): Promise<VersionComparison> {
  let query = db.selectFrom('model_versions').selectAll().where('model_id', '=', model.id);
  if (versions?.length) query = query.where('version', 'in', versions);
  const rows = await query.orderBy('version', 'desc').execute();
  if (versions?.length) {
    const missing = versions.filter((v) => !rows.some((r) => r.version === v));
    if (missing.length)
      throw new NotFound(`${model.name} has no version ${missing.join(', ')}`, { model: model.name, missing }, 'version_not_found');
  }
  const entries = rows.map((r) => {
    const metrics = parseJson<Record<string, number>>(r.metrics, {});
    return {
      version: r.version,
      metrics,
      value: metric === undefined ? null : (metrics[metric] ?? null),
      created_at: r.created_at,
      quantization: r.quantization,
      size_bytes: r.size_bytes,
    };
  });
  if (metric !== undefined) {
    // Versions without the metric sort last whatever the order.
    entries.sort((a, b) => (a.value === null ? 1 : b.value === null ? -1 : order === 'asc' ? a.value - b.value : b.value - a.value));
  }
  return {
    model: model.name,
    metric: metric ?? null,
    order,
    versions: entries,
    best: metric !== undefined ? (entries.find((e) => e.value !== null)?.version ?? null) : null,
  };
}

/** Counts, and the average of each metric over the production versions; with `tenant`, of that tenant's models only. */
export async function registryStatistics(db: Executor, tenant?: string): Promise<RegistryStatistics> {
  let models = db.selectFrom('models').select((eb) => eb.fn.countAll().as('n'));
  if (tenant !== undefined) models = models.where('tenant', '=', tenant);
  let versions = db
    .selectFrom('model_versions')
    .innerJoin('models', 'models.id', 'model_versions.model_id')
    .select(['model_versions.format']);
  if (tenant !== undefined) versions = versions.where('models.tenant', '=', tenant);
  let production = db
    .selectFrom('model_aliases')
    .innerJoin('model_versions', 'model_versions.id', 'model_aliases.version_id')
    .innerJoin('models', 'models.id', 'model_aliases.model_id')
    .select(['model_versions.metrics'])
    .where('model_aliases.alias', '=', PRODUCTION);
  if (tenant !== undefined) production = production.where('models.tenant', '=', tenant);
  const modelRow = await models.executeTakeFirst();
  const versionRows = await versions.execute();
  const productionRows = await production.execute();
  const sums: Record<string, { sum: number; count: number }> = {};
  for (const row of productionRows) {
    for (const [key, value] of Object.entries(parseJson<Record<string, number>>(row.metrics, {}))) {
      if (typeof value !== 'number') continue;
      sums[key] = { sum: (sums[key]?.sum ?? 0) + value, count: (sums[key]?.count ?? 0) + 1 };
    }
  }
  const modelCount = Number(modelRow?.n ?? 0);
  return {
    total_models: modelCount,
    total_versions: versionRows.length,
    models_in_production: productionRows.length,
    average_versions_per_model: modelCount ? Math.round((versionRows.length / modelCount) * 100) / 100 : 0,
    average_production_metrics: Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, Math.round((v.sum / v.count) * 1e6) / 1e6])),
    versions_by_format: countBy(versionRows, (v) => v.format),
  };
}
