// Catalog reads: find and resolve models and versions, list pages, details and store counts; each takes the database or a transaction first.
import { qualifiedName } from '../tenants/tenant-names.ts';
import { sql, type Kysely, type Transaction } from 'kysely';
import { likeEscaped } from '../db/sql-helpers.ts';
import type { Database, ModelRow, ModelVersionRow } from '../db/schema.ts';
import type { SnapshotFile } from '../store/blob-store.ts';
import { NotFound } from '../errors.ts';
import { isVersionNumber, parseModelRef, PRODUCTION_ALIAS } from './model-name.ts';
import { decodePageToken, encodePageToken } from './page-token.ts';
import { toVersionInfo } from './model-rows.ts';
import { summarizeModels } from './model-summaries.ts';
import type { ModelDetail, ModelListQuery, ModelSummary } from '../schemas/models.ts';

export type Executor = Kysely<Database> | Transaction<Database>;

export interface ResolvedVersion {
  model: ModelRow;
  version: ModelVersionRow;
}

const MAX_VERSIONS_IN_DETAIL = 100;

/** The model named `name` (no ref); 404 `model_not_found` when there is none. */
export async function findModel(db: Executor, name: string): Promise<ModelRow> {
  const model = await db.selectFrom('models').selectAll().where('name', '=', name).executeTakeFirst();
  if (!model) throw new NotFound(`Model "${name}" not found`, { model: name }, 'model_not_found');
  return model;
}

/** `name` -> production alias else newest; `name:3` -> version 3; `name:alias` -> the alias (`latest` falls back to newest). */
export async function resolveVersion(db: Executor, nameRef: string): Promise<ResolvedVersion> {
  const ref = parseModelRef(nameRef);
  const model = await findModel(db, ref.name);
  const versions = db.selectFrom('model_versions').selectAll('model_versions').where('model_versions.model_id', '=', model.id);
  let version: ModelVersionRow | undefined;
  if (ref.ref !== undefined && isVersionNumber(ref.ref)) {
    version = await versions.where('version', '=', Number(ref.ref)).executeTakeFirst();
  } else {
    const alias = ref.ref ?? PRODUCTION_ALIAS;
    version = await versions
      .innerJoin('model_aliases', 'model_aliases.version_id', 'model_versions.id')
      .where('model_aliases.alias', '=', alias)
      .executeTakeFirst();
    if (!version && (ref.ref === undefined || ref.ref === 'latest')) {
      version = await versions.orderBy('version', 'desc').executeTakeFirst();
    }
  }
  if (!version)
    throw new NotFound(`Model "${nameRef}" has no such version or alias`, { model: ref.name, ref: ref.ref ?? null }, 'version_not_found');
  return { model, version };
}

export async function countModels(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('models')
    .select((eb) => eb.fn.countAll().as('count'))
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}

/** Models sorted by name, keyset-paginated, each with its current version's facts. */
export async function listModelPage(
  db: Executor,
  query: ModelListQuery,
  tenant?: string,
): Promise<{ models: ModelSummary[]; total: number; next_page_token: string | null }> {
  const limit = query.limit ?? 100;
  let filtered = db.selectFrom('models');
  if (tenant !== undefined) filtered = filtered.where('tenant', '=', tenant);
  // A tenant searches the names it knows, not its own prefix.
  const prefixLength = tenant === undefined ? 0 : qualifiedName(tenant, '').length;
  const searched = prefixLength === 0 ? sql`lower(name)` : sql`lower(substr(name, ${prefixLength + 1}))`;
  if (query.name) filtered = filtered.where(likeEscaped(searched, query.name.toLowerCase()));
  if (query.tag) filtered = filtered.where(likeEscaped(sql.ref('tags'), JSON.stringify(query.tag)));
  if (query.format) {
    const format = query.format;
    filtered = filtered.where((eb) =>
      eb.exists(
        eb
          .selectFrom('model_versions')
          .select('model_versions.id')
          .whereRef('model_versions.model_id', '=', 'models.id')
          .where('model_versions.format', '=', format),
      ),
    );
  }
  const totalRow = await filtered.select((eb) => eb.fn.countAll().as('count')).executeTakeFirst();
  let page = filtered.selectAll();
  if (query.page_token) page = page.where('name', '>', String(decodePageToken(query.page_token, ['name'] as const).name));
  const rows = await page
    .orderBy('name')
    .limit(limit + 1)
    .execute();
  const models = rows.slice(0, limit);
  const summaries = await summarizeModels(db, models);
  const last = models.at(-1);
  return {
    models: summaries,
    total: Number(totalRow?.count ?? 0),
    next_page_token: rows.length > limit && last ? encodePageToken({ name: last.name }) : null,
  };
}

/** A model with its aliases, its newest versions and the version a request for `nameRef` gets. */
export async function modelDetail(db: Executor, nameRef: string): Promise<ModelDetail> {
  const ref = parseModelRef(nameRef);
  const model = await findModel(db, ref.name);
  const [summary] = await summarizeModels(db, [model]);
  if (!summary) throw new Error(`internal: no summary for model ${model.name}`);
  const rows = await db
    .selectFrom('model_versions')
    .selectAll()
    .where('model_id', '=', model.id)
    .orderBy('version', 'desc')
    .limit(MAX_VERSIONS_IN_DETAIL)
    .execute();
  const aliasRows = await db
    .selectFrom('model_aliases')
    .innerJoin('model_versions', 'model_versions.id', 'model_aliases.version_id')
    .select(['model_aliases.alias', 'model_versions.version', 'model_aliases.version_id'])
    .where('model_aliases.model_id', '=', model.id)
    .execute();
  const aliasesOf = (versionId: string) => aliasRows.filter((a) => a.version_id === versionId).map((a) => a.alias);
  const resolved = summary.version_count > 0 ? (await resolveVersion(db, nameRef)).version.version : null;
  return {
    ...summary,
    aliases: Object.fromEntries(aliasRows.map((a) => [a.alias, a.version])),
    versions: rows.map((row) => toVersionInfo(model, row, aliasesOf(row.id))),
    resolved_version: resolved,
  };
}

/** The files of a version, as its snapshot links them. */
export async function versionFiles(db: Executor, versionId: string): Promise<SnapshotFile[]> {
  return db.selectFrom('version_files').select(['path', 'sha256']).where('version_id', '=', versionId).execute();
}

/**
 * Versions, and how many have every file among `presentBlobs`; stored bytes and blobs (for the summary). With `tenant`,
 * that tenant's share: its versions, and the distinct blobs they reference (a blob shared with another tenant counts
 * for each, as its stored_bytes quota counts it).
 */
/** The store's figures (or one tenant's): versions, those whose files are all on disk, bytes and blobs referenced. */
export interface StoreCounts {
  versions: number;
  versionsOnDisk: number;
  bytes: number;
  blobs: number;
}

export async function storeCounts(db: Executor, presentBlobs: string[], tenant?: string): Promise<StoreCounts> {
  let fileQuery = db
    .selectFrom('version_files')
    .innerJoin('model_versions', 'model_versions.id', 'version_files.version_id')
    .innerJoin('models', 'models.id', 'model_versions.model_id')
    .select(['version_files.version_id', 'version_files.sha256', 'version_files.size_bytes']);
  let versionQuery = db
    .selectFrom('model_versions')
    .innerJoin('models', 'models.id', 'model_versions.model_id')
    .select('model_versions.id');
  if (tenant !== undefined) {
    fileQuery = fileQuery.where('models.tenant', '=', tenant);
    versionQuery = versionQuery.where('models.tenant', '=', tenant);
  }
  const files = await fileQuery.execute();
  const versions = await versionQuery.execute();
  const present = new Set(presentBlobs);
  const missingVersions = new Set(files.filter((f) => !present.has(f.sha256)).map((f) => f.version_id));
  const unique = new Map(files.map((f) => [f.sha256, f.size_bytes]));
  return {
    versions: versions.length,
    versionsOnDisk: versions.filter((v) => !missingVersions.has(v.id)).length,
    bytes: [...unique.values()].reduce((sum, b) => sum + b, 0),
    blobs: tenant === undefined ? present.size : [...unique.keys()].filter((sha) => present.has(sha)).length,
  };
}
