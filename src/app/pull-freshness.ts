// Whether a hub pull would only re-record what a name already holds: same repo, variant and commit, every blob stored.
import type { ModelCatalog } from '../registry/catalog.ts';
import { toVersionInfo } from '../registry/model-rows.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { HubClient } from '../hub/hub-client.ts';
import { chooseVariant, listVariants } from '../hub/variants.ts';
import type { DownloadRequest } from '../schemas/hub.ts';
import type { VersionInfo } from '../schemas/models.ts';
import { NotFound } from '../errors.ts';

/**
 * The version `request.name` resolves to when it came from the hub commit and variant the request resolves to now and
 * all its blobs are stored, else null. Ollama's pull of an up-to-date model changes nothing; a job would add a version.
 */
export async function upToDateHubVersion(
  catalog: ModelCatalog,
  store: BlobStore,
  hub: HubClient,
  request: DownloadRequest,
): Promise<VersionInfo | null> {
  const name = request.name ?? request.repo_id;
  let current: VersionInfo;
  try {
    const resolved = await catalog.resolve(name);
    current = toVersionInfo(resolved.model, resolved.version, []);
  } catch (error) {
    if (error instanceof NotFound) return null;
    throw error;
  }
  const { source } = current;
  if (source.kind !== 'hub' || source.repo_id !== request.repo_id || source.revision !== (request.revision ?? 'main')) return null;
  const snapshot = await hub.repo(request.repo_id, request.revision ?? 'main');
  const variant = chooseVariant(listVariants(snapshot.files), request.variant, request.repo_id);
  if (source.commit_sha !== snapshot.commit_sha || source.variant !== variant.id) return null;
  for (const file of current.manifest.files) if (!(await store.hasBlob(file.sha256))) return null;
  return current;
}
