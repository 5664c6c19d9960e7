// A version's files in the artifact store: an artifact's files copied in as blobs, the version's manifest and snapshot written and removed.
import type { BlobStore, SnapshotFile } from './blob-store.ts';
import type { DetectedArtifact } from './detect-format.ts';
import type { VersionManifest } from '../schemas/models.ts';

/** Copies every file of a detected artifact into the store; callers hold the catalog's store lock until the version is committed. */
export async function copyArtifactFiles(store: BlobStore, artifact: Pick<DetectedArtifact, 'files'>): Promise<VersionManifest['files']> {
  const stored: VersionManifest['files'] = [];
  for (const file of artifact.files) {
    const blob = await store.putFile(file.absolutePath);
    stored.push({ path: file.path, size_bytes: blob.sizeBytes, sha256: blob.sha256 });
  }
  return stored;
}

/** Writes a committed version's manifest record and links its snapshot folder from the blobs. */
export async function writeVersionArtifacts(
  store: BlobStore,
  modelId: string,
  version: number,
  manifest: Record<string, unknown>,
  files: SnapshotFile[],
): Promise<void> {
  await store.writeManifest(modelId, version, manifest);
  await store.materializeSnapshot(modelId, version, files);
}

/** Removes the snapshots and manifests of deleted versions, and the model's folders when the model went with them. */
export async function removeVersionArtifacts(store: BlobStore, modelId: string, versions: number[], modelRemoved: boolean): Promise<void> {
  for (const version of versions) {
    await store.removeSnapshots(modelId, version);
    await store.removeManifests(modelId, version);
  }
  if (modelRemoved) {
    await store.removeSnapshots(modelId);
    await store.removeManifests(modelId);
  }
}
