// Catalog writes of the Ollama sync: a version per (name, digest) with no files, tags as aliases, production following `latest`, vanished digests removed.
import type { Kysely } from 'kysely';
import type { ModelResponse } from 'ollama';
import type { Database, ModelVersionRow } from '../../db/schema.ts';
import type { EventSink } from '../../events/event-types.ts';
import type { ActionContext } from '../../registry/audit.ts';
import { PRODUCTION_ALIAS } from '../../registry/model-name.ts';
import type { ModelCatalog } from '../../registry/catalog.ts';
import { insertNextVersion } from '../../registry/version-repository.ts';
import { parameterCount, type OllamaName } from './ollama-names.ts';

/** Where an Ollama version came from: the server, the name it was first seen under, and the digest that makes it this version. */
export interface OllamaSource {
  kind: 'ollama';
  server: string;
  name: string;
  digest: string;
}

/** One tag of a model as a server lists it. */
export interface ListedTag {
  name: OllamaName;
  entry: ModelResponse;
}

export const SYNC_ACTOR: ActionContext = { actor: 'ollama-sync' };

export function ollamaSourceOf(version: Pick<ModelVersionRow, 'source'>): OllamaSource | null {
  try {
    const source = JSON.parse(version.source) as Partial<OllamaSource>;
    return source.kind === 'ollama' && typeof source.server === 'string' && typeof source.digest === 'string'
      ? (source as OllamaSource)
      : null;
  } catch {
    return null;
  }
}

export interface CatalogModelState {
  modelId: string;
  versions: ModelVersionRow[];
  aliases: Map<string, string>;
}

/** The model `name` as the catalog holds it now (null when absent). */
export async function catalogModel(db: Kysely<Database>, name: string): Promise<CatalogModelState | null> {
  const model = await db.selectFrom('models').select('id').where('name', '=', name).executeTakeFirst();
  if (!model) return null;
  const versions = await db.selectFrom('model_versions').selectAll().where('model_id', '=', model.id).execute();
  const aliasRows = await db.selectFrom('model_aliases').select(['alias', 'version_id']).where('model_id', '=', model.id).execute();
  return { modelId: model.id, versions, aliases: new Map(aliasRows.map((a) => [a.alias, a.version_id])) };
}

/** Names of the models whose versions came from `server`. */
export async function modelsFromServer(db: Kysely<Database>, server: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('model_versions')
    .innerJoin('models', 'models.id', 'model_versions.model_id')
    .select(['models.name', 'model_versions.source'])
    .where('model_versions.format', '=', 'ollama')
    .execute();
  return new Set(rows.filter((r) => ollamaSourceOf(r)?.server === server).map((r) => r.name));
}

async function pointAlias(db: Kysely<Database>, modelId: string, alias: string, versionId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('model_aliases').where('model_id', '=', modelId).where('alias', '=', alias).execute();
    await trx
      .insertInto('model_aliases')
      .values({ model_id: modelId, alias, version_id: versionId, updated_at: new Date().toISOString() })
      .execute();
  });
}

/** Records a new version for a digest the catalog has not seen for this model. */
async function addVersion(
  db: Kysely<Database>,
  server: string,
  model: string,
  tag: ListedTag,
  events?: EventSink,
): Promise<ModelVersionRow> {
  const details = tag.entry.details;
  const source: OllamaSource = { kind: 'ollama', server, name: tag.name.full, digest: tag.entry.digest };
  const { version } = await insertNextVersion(
    db,
    model,
    undefined,
    { description: `Ollama model ${tag.name.full} on ${server}` },
    SYNC_ACTOR,
    {
      format: 'ollama',
      size_bytes: Number(tag.entry.size) || 0,
      architecture: details?.family || null,
      parameter_count: parameterCount(details?.parameter_size),
      context_length: null,
      quantization: details?.quantization_level || null,
      manifest: JSON.stringify({ entry: '', files: [] }),
      metadata: JSON.stringify({ ollama: { details: details ?? null, modified_at: tag.entry.modified_at ?? null } }),
      source: JSON.stringify(source),
      metrics: '{}',
      parameters: JSON.stringify({ parameter_size: details?.parameter_size ?? null }),
      feature_names: '[]',
      training: '{}',
    },
  );
  events?.publish({
    type: 'version.created',
    model,
    version: version.version,
    data: { format: 'ollama', size_bytes: version.size_bytes, alias: tag.name.tag, source: { ...source } },
  });
  return version;
}

/**
 * Brings one model in line with a server's tags: a version per digest, each tag an alias of its digest's version,
 * production moved with `latest` (unless someone promoted another version), versions whose digest is gone removed
 * unless `isHeld` says the runtime holds them.
 */
export async function applyModelTags(
  db: Kysely<Database>,
  server: string,
  model: string,
  tags: ListedTag[],
  isHeld: (versionId: string) => boolean,
  catalog: ModelCatalog,
  events?: EventSink,
): Promise<void> {
  let state = await catalogModel(db, model);
  const versionOfDigest = new Map<string, ModelVersionRow>();
  for (const v of state?.versions ?? []) {
    const source = ollamaSourceOf(v);
    if (source) versionOfDigest.set(source.digest, v);
  }
  for (const tag of tags) {
    if (!versionOfDigest.has(tag.entry.digest)) versionOfDigest.set(tag.entry.digest, await addVersion(db, server, model, tag, events));
  }
  state = await catalogModel(db, model);
  if (!state) return;
  const previousLatest = state.aliases.get('latest');
  for (const tag of tags) {
    const version = versionOfDigest.get(tag.entry.digest);
    if (version && state.aliases.get(tag.name.tag) !== version.id) await pointAlias(db, state.modelId, tag.name.tag, version.id);
  }
  // On the compatible surfaces `name` means the served version: production follows Ollama's `latest` tag.
  const latestTag = tags.find((t) => t.name.tag === 'latest');
  const latestVersion = latestTag ? versionOfDigest.get(latestTag.entry.digest) : undefined;
  const production = state.aliases.get(PRODUCTION_ALIAS);
  if (latestVersion && production !== latestVersion.id && (production === undefined || production === previousLatest)) {
    await pointAlias(db, state.modelId, PRODUCTION_ALIAS, latestVersion.id);
  }
  const listed = new Set(tags.map((t) => t.entry.digest));
  for (const [digest, version] of versionOfDigest) {
    if (listed.has(digest) || isHeld(version.id)) continue;
    await removeVersion(catalog, model, version.version);
  }
}

/** Removes one version (the model with its last one) that its server no longer holds; the catalog announces it. */
export async function removeVersion(catalog: ModelCatalog, model: string, version: number): Promise<void> {
  await catalog.deleteModel(`${model}:${version}`, SYNC_ACTOR);
}
