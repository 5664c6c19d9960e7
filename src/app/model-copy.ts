// Use cases of the compatible surfaces' model names: copy (an alias or a version sharing the blobs), create from a model or uploaded blobs, remove a name.
import fsp from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import type { ModelCatalog, ResolvedVersion } from '../registry/catalog.ts';
import type { RegistryService } from '../registry/registry-service.ts';
import type { ActionContext } from '../registry/audit.ts';
import { isVersionNumber, parseModelRef, PRODUCTION_ALIAS, type ModelRef } from '../registry/model-name.ts';
import { toVersionInfo } from '../registry/model-rows.ts';
import { assertClientFilePath, type BlobStore } from '../store/blob-store.ts';
import { detectArtifact, type ArtifactMetadata, type DetectedArtifact } from '../store/detect-format.ts';
import { HangarError, InvalidInput, NotFound } from '../errors.ts';
import type { VersionInfo, VersionManifest } from '../schemas/models.ts';
import type { ModelLifecycle } from './model-lifecycle.ts';
import { toHangarRef } from './compatible-names.ts';

/** What Ollama keeps beside the weights (its Modelfile's SYSTEM, TEMPLATE, PARAMETER, LICENSE, MESSAGE), stored as metadata.ollama. */
export interface OllamaModelSettings {
  system?: string;
  template?: string;
  parameters?: Record<string, unknown>;
  license?: string | string[];
  messages?: unknown[];
}

/** What a copy did: pointed an alias (nothing written but the name) or recorded a version that shares the source's blobs. */
export interface CopyResult {
  model: string;
  version: number;
  alias: string | null;
  created: 'alias' | 'version' | 'nothing';
}

/** A created version and the digests of the stored blobs it reuses (for Ollama's `using existing layer` lines). */
export interface CreateResult {
  version: VersionInfo;
  digests: string[];
}

const SHA256_DIGEST = /^sha256:([0-9a-f]{64})$/;

/** The destination of a copy or create: `name`, `name:latest` or `name:tag`; version numbers and `production` are Hangar's to assign. */
function destinationRef(value: string): ModelRef {
  const ref = parseModelRef(toHangarRef(value));
  if (ref.ref !== undefined && isVersionNumber(ref.ref)) {
    throw new InvalidInput(
      `Version numbers are assigned by Hangar; use ${ref.name} or ${ref.name}:<tag>`,
      { name: value },
      'invalid_model_name',
    );
  }
  if (ref.ref === PRODUCTION_ALIAS) {
    throw new InvalidInput(
      `"${PRODUCTION_ALIAS}" moves by promotion: use POST /api/v1/models/${ref.name}/promote`,
      { name: value },
      'invalid_alias',
    );
  }
  return ref;
}

const refText = (ref: ModelRef): string => (ref.ref === undefined ? ref.name : `${ref.name}:${ref.ref}`);

/** Only the settings given, so merging never overwrites a stored value with undefined. */
function definedSettings(settings: OllamaModelSettings): OllamaModelSettings {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as OllamaModelSettings;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}

export class ModelCopies {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly registry: RegistryService,
    private readonly store: BlobStore,
    private readonly models: ModelLifecycle,
  ) {}

  /**
   * `source` under another name without copying bytes: `samename:tag` points alias `tag` at the source's version
   * (only with `mayMoveAliases`); any other destination gets a new version (its newest) whose files are the source's blobs.
   */
  async copy(source: string, destination: string, context: ActionContext, options: { mayMoveAliases: boolean }): Promise<CopyResult> {
    const resolved = await this.catalog.resolve(toHangarRef(source));
    const target = destinationRef(destination);
    const model = resolved.model.name;
    const version = resolved.version.version;
    if (target.name === model && target.ref !== undefined) {
      // Pointing an alias of an existing model is the registry's alias change, which Hangar's own API keeps for admins.
      if (!options.mayMoveAliases) {
        throw new HangarError('forbidden', `Copying ${model} to its own tag "${target.ref}" moves an alias, which needs the admin role`, {
          model,
          alias: target.ref,
        });
      }
      await this.registry.setAlias(model, target.ref, String(version), context);
      return { model, version, alias: target.ref, created: 'alias' };
    }
    if (target.name === model) {
      // `copy x:tag x`: nothing to do when x already serves that version.
      const served = await this.catalog.resolve(model);
      if (served.version.id === resolved.version.id) return { model, version, alias: null, created: 'nothing' };
    }
    const created = await this.commitShared(refText(target), resolved, undefined, context);
    return { model: created.model, version: created.version, alias: target.ref ?? null, created: 'version' };
  }

  /** A new version of `name` with the files of `from` and its Ollama settings, overridden by `settings`. */
  async createFrom(name: string, from: string, settings: OllamaModelSettings, context: ActionContext): Promise<CreateResult> {
    const target = destinationRef(name);
    const resolved = await this.catalog.resolve(toHangarRef(from));
    const version = await this.commitShared(refText(target), resolved, definedSettings(settings), context);
    return { version, digests: version.manifest.files.map((f) => `sha256:${f.sha256}`) };
  }

  /** A new version of `name` from uploaded blobs (`{"model.gguf": "sha256:<hex>"}`), its format detected as an import does. */
  async createFromBlobs(
    name: string,
    files: Record<string, string>,
    settings: OllamaModelSettings,
    context: ActionContext,
  ): Promise<CreateResult> {
    const target = destinationRef(name);
    const wanted = Object.entries(files).map(([path, digest]) => {
      assertClientFilePath(path);
      const match = SHA256_DIGEST.exec(digest);
      if (!match?.[1]) throw new InvalidInput(`files["${path}"] is not a sha256:<64 hex> digest`, { path, digest });
      return { path, sha256: match[1] };
    });
    if (wanted.length === 0) throw new InvalidInput('files is empty: name at least one uploaded blob', { field: 'files' });
    const version = await this.catalog.runLocked(async () => {
      const stored: VersionManifest['files'] = [];
      for (const file of wanted) {
        if (!(await this.store.hasBlob(file.sha256))) {
          throw new NotFound(
            `Blob sha256:${file.sha256} (${file.path}) is not stored; upload it with POST /api/blobs/sha256:${file.sha256}`,
            { digest: `sha256:${file.sha256}`, path: file.path },
            'blob_not_found',
          );
        }
        const { size } = await fsp.stat(this.store.blobPath(file.sha256));
        stored.push({ path: file.path, sha256: file.sha256, size_bytes: size });
      }
      const ollama = definedSettings(settings);
      const commit = (detected: Pick<DetectedArtifact, 'format' | 'entry' | 'metadata'>) =>
        this.catalog.commitStoredVersion(
          { name: refText(target), metadata: Object.keys(ollama).length ? { ollama } : {} },
          context,
          detected,
          stored,
          { kind: 'upload', files },
        );
      const [only] = wanted;
      // One file is recognised by its bytes (Ollama's clients name it model.gguf, but any name will do).
      if (only && wanted.length === 1) return commit({ ...(await detectArtifact(this.store.blobPath(only.sha256))), entry: only.path });
      // Several files are read laid out as a runtime sees them (an ONNX folder), in a throw-away snapshot.
      const stagingId = `staging-${randomUUID()}`;
      try {
        return await commit(await detectArtifact(await this.store.materializeSnapshot(stagingId, 0, stored)));
      } finally {
        await this.store.removeSnapshots(stagingId);
      }
    });
    return { version, digests: wanted.map((f) => `sha256:${f.sha256}`) };
  }

  /**
   * Removes what a compatible name names: `name` / `name:latest` the whole model, `name:3` that version, `name:tag` the alias —
   * and its version too when nothing names it any more (no other alias, and not the version `name` serves). Loaded models are unloaded.
   */
  async removeName(compatibleName: string, context: ActionContext): Promise<void> {
    const hangarRef = toHangarRef(compatibleName);
    const ref = parseModelRef(hangarRef);
    if (ref.ref === undefined || isVersionNumber(ref.ref)) {
      await this.models.delete(hangarRef, true, context);
      return;
    }
    const before = await this.catalog.getModel(ref.name);
    const aliasVersion = before.aliases[ref.ref];
    if (aliasVersion === undefined) {
      throw new NotFound(`${ref.name} has no tag "${ref.ref}"`, { model: ref.name, alias: ref.ref }, 'version_not_found');
    }
    await this.registry.deleteAlias(ref.name, ref.ref, context);
    const after = await this.catalog.getModel(ref.name);
    const served = after.production_version ?? after.latest_version;
    const stillNamed = served === aliasVersion || Object.values(after.aliases).includes(aliasVersion);
    if (!stillNamed) await this.models.delete(`${ref.name}:${aliasVersion}`, true, context);
  }

  /** Records a version of `name` whose files are `resolved`'s blobs (checked present under the store lock), with lineage to it. */
  private async commitShared(
    name: string,
    resolved: ResolvedVersion,
    settings: OllamaModelSettings | undefined,
    context: ActionContext,
  ): Promise<VersionInfo> {
    const info = toVersionInfo(resolved.model, resolved.version, []);
    const { embedding_length, layer_count, vocab_size, demo: _demo, ollama, ...extra } = info.metadata;
    const mergedSettings = settings === undefined ? ollama : { ...(ollama as OllamaModelSettings | undefined), ...settings };
    const metadata: ArtifactMetadata = {
      architecture: info.architecture,
      parameter_count: info.parameter_count,
      context_length: info.context_length,
      quantization: info.quantization,
      embedding_length: numberOrNull(embedding_length),
      layer_count: numberOrNull(layer_count),
      vocab_size: numberOrNull(vocab_size),
      extra: mergedSettings === undefined ? extra : { ...extra, ollama: mergedSettings },
    };
    return this.catalog.runLocked(async () => {
      // The source may have been deleted since it was resolved; its blobs must still be there to share them.
      for (const file of info.manifest.files) {
        if (!(await this.store.hasBlob(file.sha256))) {
          throw new NotFound(`${info.model}:${info.version} is no longer stored`, { model: info.model }, 'model_not_found');
        }
      }
      return this.catalog.commitStoredVersion(
        {
          name,
          description: info.description ?? undefined,
          tags: info.tags,
          quantization: info.quantization,
          parameters: info.parameters,
          metrics: info.metrics,
          feature_names: info.feature_names,
          training: info.training,
          source: { ...info.source, copied_from: `${info.model}:${info.version}` },
        },
        context,
        { format: info.format, entry: info.manifest.entry, metadata },
        info.manifest.files,
        {},
      );
    });
  }
}
