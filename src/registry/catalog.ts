// The model catalog: import local artifacts as immutable versions, list, resolve and delete models (the facade over queries, store and GC).
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { BlobStore } from '../store/blob-store.ts';
import { SerialLock } from '../store/serial-lock.ts';
import { detectArtifact, type DetectedArtifact } from '../store/detect-format.ts';
import { copyArtifactFiles, removeVersionArtifacts, writeVersionArtifacts } from '../store/version-artifacts.ts';
import { InvalidInput } from '../errors.ts';
import type { EventSink } from '../events/event-types.ts';
import { isVersionNumber, parseModelRef } from './model-name.ts';
import type { ActionContext } from './audit.ts';
import { toVersionInfo } from './model-rows.ts';
import {
  countModels,
  listModelPage,
  modelDetail,
  resolveVersion,
  storeCounts,
  type StoreCounts,
  versionFiles,
  type Executor,
  type ResolvedVersion,
} from './catalog-queries.ts';
import { deleteVersions, insertNextVersion } from './version-repository.ts';
import { removeOrphanBlobs, removeUnreferencedBlobs } from './blob-gc.ts';
import type { DeleteResult, ModelDetail, ModelListQuery, ModelSummary, VersionInfo, VersionManifest } from '../schemas/models.ts';

// Where it was defined before the split; most of the code imports it from here.
export type { ResolvedVersion } from './catalog-queries.ts';

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
      const stored = await copyArtifactFiles(this.store, artifact);
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
    const { model, version } = await insertNextVersion(this.db, ref.name, ref.ref, options, context, {
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
    await writeVersionArtifacts(
      this.store,
      model.id,
      version.version,
      { model: model.name, version: version.version, format: version.format, ...manifest, metadata, source },
      stored,
    );
    this.events?.publish({
      type: 'version.created',
      model: model.name,
      version: version.version,
      data: { format: version.format, size_bytes: version.size_bytes, alias: ref.ref ?? null, source },
    });
    return toVersionInfo(model, version, ref.ref ? [ref.ref] : []);
  }

  async countModels(): Promise<number> {
    return countModels(this.db);
  }

  /** Models sorted by name, keyset-paginated, each with its current version's facts; with `tenant`, only that tenant's. */
  async listModels(
    query: ModelListQuery,
    tenant?: string,
  ): Promise<{ models: ModelSummary[]; total: number; next_page_token: string | null }> {
    return listModelPage(this.db, query, tenant);
  }

  /** `name` -> production alias else newest; `name:3` -> version 3; `name:alias` -> the alias (`latest` falls back to newest). */
  async resolve(nameRef: string, db: Executor = this.db): Promise<ResolvedVersion> {
    return resolveVersion(db, nameRef);
  }

  async getModel(nameRef: string): Promise<ModelDetail> {
    return modelDetail(this.db, nameRef);
  }

  /** `name` removes the model; `name:ref` removes one version (the model too when it was the last). Unshared blobs go. */
  async deleteModel(nameRef: string, context: ActionContext): Promise<DeleteResult> {
    const ref = parseModelRef(nameRef);
    return this.storeLock.run(async () => {
      const removed = await deleteVersions(this.db, ref, nameRef, context);
      await removeVersionArtifacts(
        this.store,
        removed.model.id,
        removed.versions.map((v) => v.version),
        removed.modelRemoved,
      );
      const { blobs, bytes } = await removeUnreferencedBlobs(this.db, this.store, removed.files);
      this.events?.publish({
        type: removed.modelRemoved ? 'model.deleted' : 'version.deleted',
        model: removed.model.name,
        version: ref.ref === undefined ? null : (removed.versions[0]?.version ?? null),
        data: { versions: removed.versions.map((v) => v.version) },
      });
      return { deleted: nameRef, versions_removed: removed.versions.length, blobs_removed: blobs, bytes_freed: bytes };
    });
  }

  /** Removes blobs no version references (left by an import that failed after copying); run at start-up. */
  async collectGarbage(): Promise<number> {
    return this.storeLock.run(() => removeOrphanBlobs(this.db, this.store));
  }

  /** The on-disk folder (or file's folder) of a version, rebuilt from blobs when missing. */
  async versionPath(resolved: ResolvedVersion): Promise<string> {
    const files = await versionFiles(this.db, resolved.version.id);
    return this.store.materializeSnapshot(resolved.model.id, resolved.version.version, files);
  }

  /** Versions, and how many have every file present in the store; stored bytes and blobs (for the summary); with `tenant`, its share. */
  async storeCounts(tenant?: string): Promise<StoreCounts> {
    return storeCounts(this.db, await this.store.listBlobs(), tenant);
  }
}
