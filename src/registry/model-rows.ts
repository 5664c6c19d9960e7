// Maps database rows to the API's model and version shapes, in one place.
import type { ModelRow, ModelVersionRow } from '../db/schema.ts';
import type { ModelSummary, VersionInfo, VersionManifest } from '../schemas/models.ts';

export function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export function toVersionInfo(model: ModelRow, row: ModelVersionRow, aliases: string[]): VersionInfo {
  return {
    model: model.name,
    version: row.version,
    format: row.format as VersionInfo['format'],
    size_bytes: row.size_bytes,
    architecture: row.architecture,
    parameter_count: row.parameter_count,
    context_length: row.context_length,
    quantization: row.quantization,
    aliases: [...aliases].sort(),
    manifest: parseJson<VersionManifest>(row.manifest, { entry: '', files: [] }),
    metadata: parseJson<Record<string, unknown>>(row.metadata, {}),
    source: parseJson<Record<string, unknown>>(row.source, {}),
    description: row.description,
    tags: parseJson<string[]>(row.tags, []),
    created_by: row.created_by,
    created_at: row.created_at,
    metrics: parseJson<Record<string, number>>(row.metrics, {}),
    parameters: parseJson<Record<string, unknown>>(row.parameters, {}),
    feature_names: parseJson<string[]>(row.feature_names, []),
    training: parseJson<Record<string, unknown>>(row.training, {}),
  };
}

/** A model as listed: counts plus the facts of its current version (production alias, else the newest). */
export function toModelSummary(
  model: ModelRow,
  stats: { versionCount: number; latestVersion: number | null; productionVersion: number | null },
  current: ModelVersionRow | undefined,
): ModelSummary {
  const metadata = current ? parseJson<Record<string, unknown>>(current.metadata, {}) : {};
  return {
    name: model.name,
    description: model.description,
    tags: parseJson<string[]>(model.tags, []),
    version_count: stats.versionCount,
    latest_version: stats.latestVersion,
    production_version: stats.productionVersion,
    format: (current?.format as ModelSummary['format']) ?? null,
    size_bytes: current?.size_bytes ?? null,
    quantization: current?.quantization ?? null,
    architecture: current?.architecture ?? null,
    parameter_count: current?.parameter_count ?? null,
    context_length: current?.context_length ?? null,
    embedding_length: typeof metadata.embedding_length === 'number' ? metadata.embedding_length : null,
    demo: metadata.demo === true,
    created_at: model.created_at,
    updated_at: model.updated_at,
  };
}
