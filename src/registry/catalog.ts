// The model catalog: import local artifacts as immutable versions, list, resolve and delete models.
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { isUniqueViolation, likeEscaped } from '../db/sql-helpers.ts';
import type { Database, ModelRow, ModelVersionRow } from '../db/schema.ts';
import type { BlobStore } from '../store/blob-store.ts';
import { SerialLock } from '../store/serial-lock.ts';
import { detectArtifact, type DetectedArtifact } from '../store/detect-format.ts';
import { InvalidInput, NotFound } from '../errors.ts';
import { isVersionNumber, parseModelRef } from './model-name.ts';
import { recordAuditEvent, type ActionContext } from './audit.ts';
import { decodePageToken, encodePageToken } from './page-token.ts';
import { toVersionInfo } from './model-rows.ts';
import { summarizeModels } from './model-summaries.ts';
import type { DeleteResult, ModelDetail, ModelListQuery, ModelSummary, VersionInfo, VersionManifest } from '../schemas/models.ts';

export interface ImportOptions {
  name: string;
  path: string;
  description?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
  /** Lineage: where the artifact came from (local path, hub repo and commit, generator…). */
  source?: Record<string, unknown>;
  /** Evaluation metrics, e.g. {"accuracy": 0.93}: compared and averaged by the registry. */
  metrics?: Record<string, number>;
  /** Hyperparameters / parameters the version was trained or converted with. */
  parameters?: Record<string, unknown>;
  feature_names?: string[];
  /** Training facts: dataset version, duration, … */
  training?: Record<string, unknown>;
  /** Extra lineage (run id, source URI, …) merged into the version's source. */
  lineage?: Record<string, unknown>;
}

export interface ResolvedVersion {
  model: ModelRow;
  version: ModelVersionRow;
}

type Executor = Kysely<Database> | Transaction<Database>;

/** The alias whose version serves requests for a bare model name. */
export const PRODUCTION_ALIAS = 'production';
const MAX_VERSIONS_IN_DETAIL = 100;

/** Where committed changes are announced (the event bus); optional so tools can use the catalog alone. */
export interface EventSink {
  publish(event: { type: string; model: string | null; version: number | null; data: Record<string, unknown> }): unknown;
}

export class ModelCatalog {
  private readonly db: Kysely<Database>;
  private readonly store: BlobStore;
  private readonly events: EventSink | undefined;
  /** Serialises blob writes+commits against blob garbage collection, so a blob is never deleted while being adopted. */
  private readonly storeLock = new SerialLock();

  constructor(db: Kysely<Database>, store: BlobStore, events?: EventSink) {
    this.db = db;
    this.store = store;
    this.events = events;
  }

  /** Imports a local folder or file as the next version of `name` (creating the model); `name:tag` also sets alias `tag`. */
  async importVersion(options: ImportOptions, context: ActionContext): Promise<VersionInfo> {
    const ref = parseModelRef(options.name);
    if (ref.ref !== undefined && isVersionNumber(ref.ref)) {
      throw new InvalidInput('Version numbers are assigned by Hangar; use name or name:tag', { name: options.name }, 'invalid_model_name');
    }
    const sourcePath = path.resolve(options.path);
    const artifact = await detectArtifact(sourcePath);
    const totalBytes = artifact.files.reduce((sum, f) => sum + f.sizeBytes, 0);
    await this.store.assertFreeSpace(totalBytes);

    return this.storeLock.run(async () => {
      const stored = [];
      for (const file of artifact.files) {
        const blob = await this.store.putFile(file.absolutePath);
        stored.push({ path: file.path, size_bytes: blob.sizeBytes, sha256: blob.sha256 });
      }
      return this.commitStoredVersion(options, context, artifact, stored, { kind: 'local', path: sourcePath });
    });
  }

  /** Runs `fn` while no blob can be garbage-collected (adopting downloaded blobs, then committing their version). */
  runLocked<T>(fn: () => Promise<T>): Promise<T> {
    return this.storeLock.run(fn);
  }

  /**
   * Records a version whose blobs are already in the store, writes its manifest and snapshot, and announces it.
   * Callers hold `runLocked` so the blobs cannot vanish before the version references them.
   */
  async commitStoredVersion(
    options: Omit<ImportOptions, 'path'> & { quantization?: string | null },
    context: ActionContext,
    artifact: Pick<DetectedArtifact, 'format' | 'entry' | 'metadata'>,
    stored: VersionManifest['files'],
    defaultSource: Record<string, unknown>,
  ): Promise<VersionInfo> {
    const ref = parseModelRef(options.name);
    const totalBytes = stored.reduce((sum, f) => sum + f.size_bytes, 0);
    const manifest: VersionManifest = { entry: artifact.entry, files: stored };
    const { embedding_length, layer_count, vocab_size, extra } = artifact.metadata;
    const metadata = { ...extra, embedding_length, layer_count, vocab_size, ...(options.metadata ?? {}) };
    const source = { ...(options.source ?? defaultSource), ...(options.lineage ?? {}) };
    const { model, version } = await this.commitVersion(ref.name, ref.ref, { ...options, path: '' }, context, {
      format: artifact.format,
      size_bytes: totalBytes,
      architecture: artifact.metadata.architecture,
      parameter_count: artifact.metadata.parameter_count,
      context_length: artifact.metadata.context_length,
      quantization: options.quantization ?? artifact.metadata.quantization,
      manifest: JSON.stringify(manifest),
      metadata: JSON.stringify(metadata),
      source: JSON.stringify(source),
      metrics: JSON.stringify(options.metrics ?? {}),
      parameters: JSON.stringify(options.parameters ?? {}),
      feature_names: JSON.stringify(options.feature_names ?? []),
      training: JSON.stringify(options.training ?? {}),
    });
    await this.store.writeManifest(model.id, version.version, { model: model.name, version: version.version, format: version.format, ...manifest, metadata, source });
    await this.store.materializeSnapshot(model.id, version.version, stored);
    this.events?.publish({ type: 'version.created', model: model.name, version: version.version, data: { format: version.format, size_bytes: version.size_bytes, alias: ref.ref ?? null, source } });
    return toVersionInfo(model, version, ref.ref ? [ref.ref] : []);
  }

  private async commitVersion(
    name: string,
    alias: string | undefined,
    options: ImportOptions,
    context: ActionContext,
    fields: Pick<ModelVersionRow, 'format' | 'size_bytes' | 'architecture' | 'parameter_count' | 'context_length' | 'quantization' | 'manifest' | 'metadata' | 'source' | 'metrics' | 'parameters' | 'feature_names' | 'training'>,
  ): Promise<ResolvedVersion> {
    // Another server on the same PostgreSQL may number a version at the same moment: the unique key decides, we retry.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction().execute(async (trx) => {
          const now = new Date().toISOString();
          let model = await trx.selectFrom('models').selectAll().where('name', '=', name).executeTakeFirst();
          if (!model) {
            model = { id: randomUUID(), name, description: options.description ?? null, tags: JSON.stringify(options.tags ?? []), created_at: now, updated_at: now };
            await trx.insertInto('models').values(model).execute();
          } else {
            await trx.updateTable('models').set({ updated_at: now }).where('id', '=', model.id).execute();
          }
          const max = await trx
            .selectFrom('model_versions')
            .select((eb) => eb.fn.max('version').as('max'))
            .where('model_id', '=', model.id)
            .executeTakeFirst();
          const version: ModelVersionRow = {
            id: randomUUID(),
            model_id: model.id,
            version: Number(max?.max ?? 0) + 1,
            ...fields,
            description: options.description ?? null,
            tags: JSON.stringify(options.tags ?? []),
            created_by: context.actor,
            created_at: now,
          };
          await trx.insertInto('model_versions').values(version).execute();
          const manifest = JSON.parse(fields.manifest) as VersionManifest;
          if (manifest.files.length > 0) {
            await trx
              .insertInto('version_files')
              .values(manifest.files.map((f) => ({ version_id: version.id, path: f.path, sha256: f.sha256, size_bytes: f.size_bytes })))
              .execute();
          }
          if (alias) await this.pointAlias(trx, model.id, alias, version.id, now);
          await recordAuditEvent(trx, context, {
            action: 'model.import',
            target: `${name}:${version.version}`,
            outcome: 'success',
            details: { format: fields.format, size_bytes: fields.size_bytes, alias: alias ?? null, source: JSON.parse(fields.source) },
          });
          return { model: { ...model, updated_at: now }, version };
        });
      } catch (error) {
        if (isUniqueViolation(error) && attempt < 4) continue;
        throw error;
      }
    }
  }

  private async pointAlias(trx: Transaction<Database>, modelId: string, alias: string, versionId: string, now: string): Promise<void> {
    await trx.deleteFrom('model_aliases').where('model_id', '=', modelId).where('alias', '=', alias).execute();
    await trx.insertInto('model_aliases').values({ model_id: modelId, alias, version_id: versionId, updated_at: now }).execute();
  }

  async countModels(): Promise<number> {
    const row = await this.db.selectFrom('models').select((eb) => eb.fn.countAll().as('count')).executeTakeFirst();
    return Number(row?.count ?? 0);
  }

  /** Models sorted by name, keyset-paginated, each with its current version's facts. */
  async listModels(query: ModelListQuery): Promise<{ models: ModelSummary[]; total: number; next_page_token: string | null }> {
    const limit = query.limit ?? 100;
    let filtered = this.db.selectFrom('models');
    if (query.name) filtered = filtered.where(likeEscaped(sql`lower(name)`, query.name.toLowerCase()));
    if (query.tag) filtered = filtered.where(likeEscaped(sql.ref('tags'), JSON.stringify(query.tag)));
    if (query.format) {
      const format = query.format;
      filtered = filtered.where((eb) =>
        eb.exists(eb.selectFrom('model_versions').select('model_versions.id').whereRef('model_versions.model_id', '=', 'models.id').where('model_versions.format', '=', format)),
      );
    }
    const totalRow = await filtered.select((eb) => eb.fn.countAll().as('count')).executeTakeFirst();
    let page = filtered.selectAll();
    if (query.page_token) page = page.where('name', '>', String(decodePageToken(query.page_token, ['name'] as const).name));
    const rows = await page.orderBy('name').limit(limit + 1).execute();
    const models = rows.slice(0, limit);
    const summaries = await summarizeModels(this.db, models);
    const last = models.at(-1);
    return {
      models: summaries,
      total: Number(totalRow?.count ?? 0),
      next_page_token: rows.length > limit && last ? encodePageToken({ name: last.name }) : null,
    };
  }

  private async findModel(db: Executor, name: string): Promise<ModelRow> {
    const model = await db.selectFrom('models').selectAll().where('name', '=', name).executeTakeFirst();
    if (!model) throw new NotFound(`Model "${name}" not found`, { model: name }, 'model_not_found');
    return model;
  }

  /** `name` -> production alias else newest; `name:3` -> version 3; `name:alias` -> the alias (`latest` falls back to newest). */
  async resolve(nameRef: string, db: Executor = this.db): Promise<ResolvedVersion> {
    const ref = parseModelRef(nameRef);
    const model = await this.findModel(db, ref.name);
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
    if (!version) throw new NotFound(`Model "${nameRef}" has no such version or alias`, { model: ref.name, ref: ref.ref ?? null }, 'version_not_found');
    return { model, version };
  }

  async getModel(nameRef: string): Promise<ModelDetail> {
    const ref = parseModelRef(nameRef);
    const model = await this.findModel(this.db, ref.name);
    const [summary] = await summarizeModels(this.db, [model]);
    const rows = await this.db
      .selectFrom('model_versions')
      .selectAll()
      .where('model_id', '=', model.id)
      .orderBy('version', 'desc')
      .limit(MAX_VERSIONS_IN_DETAIL)
      .execute();
    const aliasRows = await this.db
      .selectFrom('model_aliases')
      .innerJoin('model_versions', 'model_versions.id', 'model_aliases.version_id')
      .select(['model_aliases.alias', 'model_versions.version', 'model_aliases.version_id'])
      .where('model_aliases.model_id', '=', model.id)
      .execute();
    const aliasesOf = (versionId: string) => aliasRows.filter((a) => a.version_id === versionId).map((a) => a.alias);
    const resolved = summary.version_count > 0 ? (await this.resolve(nameRef)).version.version : null;
    return {
      ...summary,
      aliases: Object.fromEntries(aliasRows.map((a) => [a.alias, a.version])),
      versions: rows.map((row) => toVersionInfo(model, row, aliasesOf(row.id))),
      resolved_version: resolved,
    };
  }

  /** `name` removes the model; `name:ref` removes one version (the model too when it was the last). Unshared blobs go. */
  async deleteModel(nameRef: string, context: ActionContext): Promise<DeleteResult> {
    const ref = parseModelRef(nameRef);
    return this.storeLock.run(async () => {
      const removed = await this.db.transaction().execute(async (trx) => {
        const model = await this.findModel(trx, ref.name);
        let versions: ModelVersionRow[];
        if (ref.ref === undefined) {
          versions = await trx.selectFrom('model_versions').selectAll().where('model_id', '=', model.id).execute();
        } else {
          versions = [(await this.resolve(nameRef, trx)).version];
        }
        const versionIds = versions.map((v) => v.id);
        const files = versionIds.length
          ? await trx.selectFrom('version_files').select(['sha256', 'size_bytes']).where('version_id', 'in', versionIds).execute()
          : [];
        if (versionIds.length) {
          await trx.deleteFrom('model_aliases').where('version_id', 'in', versionIds).execute();
          await trx.deleteFrom('version_files').where('version_id', 'in', versionIds).execute();
          await trx.deleteFrom('model_versions').where('id', 'in', versionIds).execute();
        }
        const remaining = await trx.selectFrom('model_versions').select('id').where('model_id', '=', model.id).executeTakeFirst();
        const modelRemoved = !remaining;
        if (modelRemoved) {
          await trx.deleteFrom('model_aliases').where('model_id', '=', model.id).execute();
          await trx.deleteFrom('models').where('id', '=', model.id).execute();
        }
        await recordAuditEvent(trx, context, {
          action: ref.ref === undefined ? 'model.delete' : 'model.version.delete',
          target: ref.ref === undefined ? ref.name : `${ref.name}:${versions[0]?.version}`,
          outcome: 'success',
          details: { versions: versions.map((v) => v.version), model_removed: modelRemoved },
        });
        return { model, versions, files, modelRemoved };
      });
      for (const v of removed.versions) {
        await this.store.removeSnapshots(removed.model.id, v.version);
        await this.store.removeManifests(removed.model.id, v.version);
      }
      if (removed.modelRemoved) {
        await this.store.removeSnapshots(removed.model.id);
        await this.store.removeManifests(removed.model.id);
      }
      const { blobs, bytes } = await this.removeUnreferencedBlobs(removed.files);
      this.events?.publish({ type: removed.modelRemoved ? 'model.deleted' : 'version.deleted', model: removed.model.name, version: ref.ref === undefined ? null : (removed.versions[0]?.version ?? null), data: { versions: removed.versions.map((v) => v.version) } });
      return { deleted: nameRef, versions_removed: removed.versions.length, blobs_removed: blobs, bytes_freed: bytes };
    });
  }

  private async removeUnreferencedBlobs(candidates: Array<{ sha256: string; size_bytes: number }>): Promise<{ blobs: number; bytes: number }> {
    const unique = new Map(candidates.map((c) => [c.sha256, c.size_bytes]));
    if (unique.size === 0) return { blobs: 0, bytes: 0 };
    const stillUsed = await this.db.selectFrom('version_files').select('sha256').distinct().where('sha256', 'in', [...unique.keys()]).execute();
    const used = new Set(stillUsed.map((r) => r.sha256));
    let blobs = 0;
    let bytes = 0;
    for (const [sha, size] of unique) {
      if (used.has(sha)) continue;
      await this.store.removeBlob(sha);
      blobs++;
      bytes += size;
    }
    return { blobs, bytes };
  }

  /** Removes blobs no version references (left by an import that failed after copying); run at start-up. */
  async collectGarbage(): Promise<number> {
    return this.storeLock.run(async () => {
      const present = await this.store.listBlobs();
      if (present.length === 0) return 0;
      const referenced = new Set((await this.db.selectFrom('version_files').select('sha256').distinct().execute()).map((r) => r.sha256));
      const orphans = present.filter((sha) => !referenced.has(sha));
      for (const sha of orphans) await this.store.removeBlob(sha);
      return orphans.length;
    });
  }

  /** The on-disk folder (or file's folder) of a version, rebuilt from blobs when missing. */
  async versionPath(resolved: ResolvedVersion): Promise<string> {
    const files = await this.db.selectFrom('version_files').select(['path', 'sha256']).where('version_id', '=', resolved.version.id).execute();
    return this.store.materializeSnapshot(resolved.model.id, resolved.version.version, files);
  }

  /** Versions, and how many have every file present in the store; stored bytes and blobs (for the summary). */
  async storeCounts(): Promise<{ versions: number; versionsOnDisk: number; bytes: number; blobs: number }> {
    const files = await this.db.selectFrom('version_files').select(['version_id', 'sha256', 'size_bytes']).execute();
    const versions = await this.db.selectFrom('model_versions').select('id').execute();
    const present = new Set(await this.store.listBlobs());
    const missingVersions = new Set(files.filter((f) => !present.has(f.sha256)).map((f) => f.version_id));
    const unique = new Map(files.map((f) => [f.sha256, f.size_bytes]));
    return {
      versions: versions.length,
      versionsOnDisk: versions.filter((v) => !missingVersions.has(v.id)).length,
      bytes: [...unique.values()].reduce((sum, b) => sum + b, 0),
      blobs: present.size,
    };
  }
}
