// Turns a finished download into store blobs and a model version with its hub lineage (repo, revision, commit).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import type { ModelCatalog } from '../registry/catalog.ts';
import type { BlobStore } from '../store/blob-store.ts';
import { detectArtifact, readGgufMetadata, type DetectedArtifact } from '../store/detect-format.ts';
import type { ActionContext } from '../registry/audit.ts';
import type { VersionInfo } from '../schemas/models.ts';
import { HangarError } from '../errors.ts';
import type { JobPlan, JobRequest } from './job-store.ts';
import { isFullPrecision } from './variants.ts';

/** A downloaded file ready to adopt: its verified temp file, or null when the store already holds its blob. */
export interface FinishedFile {
  path: string;
  sha256: string;
  size_bytes: number;
  verifiedFile: string | null;
}

/** Moves verified files into the store (replacing corrupt blobs when asked); callers hold the catalog lock. */
export async function adoptFiles(store: BlobStore, files: FinishedFile[], replace: boolean): Promise<void> {
  for (const file of files) {
    if (file.verifiedFile && fs.existsSync(file.verifiedFile)) {
      await store.adoptFile(file.verifiedFile, file.sha256, { replace });
      await fsp.rm(`${file.verifiedFile}.sha256`, { force: true });
    } else if (!(await store.hasBlob(file.sha256))) {
      throw new HangarError('download_incomplete', `${file.path} vanished before it was stored; run the download again`, {
        path: file.path,
      });
    }
  }
}

async function describeArtifact(
  store: BlobStore,
  plan: JobPlan,
  files: FinishedFile[],
): Promise<Pick<DetectedArtifact, 'format' | 'entry' | 'metadata'>> {
  const entry = files.find((f) => f.path === plan.entry);
  if (!entry) throw new HangarError('download_incomplete', `The entry file ${plan.entry} is missing from the download`);
  if (plan.format === 'gguf') {
    return { format: 'gguf', entry: plan.entry, metadata: await readGgufMetadata(store.blobPath(entry.sha256)) };
  }
  // ONNX facts come from the folder as a runtime sees it: lay the blobs out in a throw-away snapshot.
  const stagingId = `staging-${randomUUID()}`;
  try {
    const dir = await store.materializeSnapshot(
      stagingId,
      0,
      files.map((f) => ({ path: f.path, sha256: f.sha256 })),
    );
    const detected = await detectArtifact(dir);
    return { format: detected.format, entry: plan.entry, metadata: detected.metadata };
  } finally {
    await store.removeSnapshots(stagingId);
  }
}

/** Adopts the files and records the new version; returns it. */
export async function importDownloadedVersion(
  catalog: ModelCatalog,
  store: BlobStore,
  request: JobRequest,
  plan: JobPlan,
  files: FinishedFile[],
  endpoint: string,
  context: ActionContext,
): Promise<VersionInfo> {
  return catalog.runLocked(async () => {
    await adoptFiles(store, files, request.force_redownload);
    const artifact = await describeArtifact(store, plan, files);
    return catalog.commitStoredVersion(
      {
        name: request.name,
        // safetensors weights record the dtype their headers state, not the file-name variant.
        quantization: plan.format === 'safetensors' || plan.format === 'diffusers' ? undefined : plan.quantization,
        metadata: { variant: plan.variant, full_precision: isFullPrecision(plan.variant) },
        source: {
          kind: 'hub',
          repo_id: request.repo_id,
          revision: request.revision,
          commit_sha: plan.commit_sha,
          variant: plan.variant,
          endpoint,
        },
      },
      context,
      artifact,
      files.map((f) => ({ path: f.path, size_bytes: f.size_bytes, sha256: f.sha256 })),
      {},
    );
  });
}
