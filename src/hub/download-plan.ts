// Planning a hub download before it is queued: the request with its defaults, its deduplication key, and the files to fetch.
import { assertSafeRelativePath, type BlobStore } from '../store/blob-store.ts';
import { parseModelRef } from '../registry/model-name.ts';
import { assertRepoId, type HubClient } from './hub-client.ts';
import { chooseVariant, listVariants, requiredFiles } from './variants.ts';
import { matchesAny } from './file-patterns.ts';
import type { JobFile, JobPlan, JobRequest } from './job-store.ts';
import type { DownloadRequest, Variant } from '../schemas/hub.ts';
import { HangarError } from '../errors.ts';

/** Resolves the type a download quantizes `variant` to; throws for a type its format lacks or an already quantized variant. */
export type QuantizeTypeFor = (variant: Variant, type: string, repoId: string) => string;

/** The stored request: repo id and target name checked, defaults filled in. */
export function downloadRequestOf(input: DownloadRequest): JobRequest {
  assertRepoId(input.repo_id);
  const request: JobRequest = {
    repo_id: input.repo_id,
    revision: input.revision ?? 'main',
    variant: input.variant ?? null,
    name: input.name ?? input.repo_id,
    force_redownload: input.force_redownload ?? false,
    ...(input.quantize ? { quantize: { type: input.quantize } } : {}),
    ...(input.allow?.length ? { allow: input.allow } : {}),
    ...(input.ignore?.length ? { ignore: input.ignore } : {}),
  };
  parseModelRef(request.name);
  return request;
}

/** Identical active downloads share this key, so a second submit joins the first job. */
export function downloadJobKey(request: JobRequest): string {
  return JSON.stringify([
    'download',
    request.repo_id,
    request.revision,
    request.variant?.toLowerCase() ?? null,
    request.name,
    request.force_redownload,
    request.quantize?.type.toLowerCase() ?? null,
    // Older jobs have no patterns: their key is unchanged.
    ...(request.allow || request.ignore ? [request.allow ?? null, request.ignore ?? null] : []),
  ]);
}

/**
 * The paths a download of `variant` fetches: what its format needs, always; of the rest, the variant's companion files
 * (or, with `allow`, the repo files matching it), less those matching `ignore`.
 */
export function selectFiles(variant: Variant, repoFiles: readonly string[], request: Pick<JobRequest, 'allow' | 'ignore'>): string[] {
  const required = new Set(requiredFiles(variant, repoFiles));
  const candidates = request.allow ? repoFiles.filter((p) => matchesAny(request.allow ?? [], p)) : variant.files;
  const rest = candidates.filter((p) => !required.has(p) && !(request.ignore && matchesAny(request.ignore, p)));
  const chosen = new Set([...required, ...rest]);
  // In the variant's own order (as downloads always listed them), then any further files.
  return [...variant.files.filter((p) => chosen.has(p)), ...[...chosen].filter((p) => !variant.files.includes(p)).sort()];
}

/** Resolves the revision and variant on the hub; files whose blob is already stored are marked present (unless forced). */
export async function planDownload(
  hub: HubClient,
  blobs: BlobStore,
  request: JobRequest,
  quantizeTypeFor?: QuantizeTypeFor,
): Promise<JobPlan> {
  const snapshot = await hub.repo(request.repo_id, request.revision);
  const variants = listVariants(snapshot.files);
  // A download that quantizes fetches full precision unless told otherwise: the smallest full-precision variant.
  const fullPrecision = variants.filter((v) => v.full_precision).sort((a, b) => a.size_bytes - b.size_bytes)[0];
  const wanted = request.variant ?? (request.quantize ? fullPrecision?.id : undefined);
  const variant = chooseVariant(variants, wanted, request.repo_id);
  if (request.quantize) {
    if (!quantizeTypeFor) throw new HangarError('service_unavailable', 'This server cannot quantize downloads');
    request.quantize.type = quantizeTypeFor(variant, request.quantize.type, request.repo_id);
  }
  const byPath = new Map(snapshot.files.map((f) => [f.path, f]));
  const files: JobFile[] = [];
  for (const filePath of selectFiles(
    variant,
    snapshot.files.map((f) => f.path),
    request,
  )) {
    const file = byPath.get(filePath);
    if (!file) continue;
    // A hub's listing names where files go: none may leave the version's folder.
    assertSafeRelativePath(file.path);
    const present = !request.force_redownload && file.sha256 !== null && (await blobs.hasBlob(file.sha256));
    files.push({
      path: file.path,
      size_bytes: file.size_bytes,
      sha256: file.sha256,
      git_oid: file.git_oid,
      bytes_done: present ? file.size_bytes : 0,
      status: present ? 'present' : 'pending',
    });
  }
  return {
    commit_sha: snapshot.commit_sha,
    variant: variant.id,
    quantization: variant.quantization,
    format: variant.format,
    entry: variant.entry,
    files,
    bytes_fetched: 0,
    retries: 0,
  };
}
