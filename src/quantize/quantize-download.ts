// A download with `quantize`: quantizes the verified files before any of them is a version, and records only the quantized version.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ModelCatalog } from '../registry/catalog.ts';
import { assertSafeRelativePath, type BlobStore } from '../store/blob-store.ts';
import type { ActionContext } from '../registry/audit.ts';
import type { VersionInfo } from '../schemas/models.ts';
import { adoptFiles, type FinishedFile } from '../hub/hub-import.ts';
import type { JobPlan, JobRequest } from '../hub/job-store.ts';
import { quantizationTarget } from './quantization-types.ts';
import { Conflict } from '../errors.ts';
import type { Variant } from '../schemas/hub.ts';
import { commitQuantized, discardOutput, runQuantization, type QuantizedOutput } from './quantize-version.ts';

/** The type a download quantizes its variant to (400 for a type the format lacks, 409 for a quantized variant). */
export function quantizeTypeForVariant(variant: Variant, type: string, repoId: string): string {
  const target = quantizationTarget(variant.format, type);
  if (!variant.full_precision) {
    throw new Conflict(
      `${repoId} variant ${variant.id} is already quantized; download it as it is, or quantize a full-precision variant`,
      { repo_id: repoId, variant: variant.id, type: target.type },
      'already_quantized',
    );
  }
  return target.type;
}

export interface QuantizeDownloadDeps {
  catalog: ModelCatalog;
  store: BlobStore;
  threads: () => number;
  nice: () => number;
}

/** Where the finished files lie now: the verified download, or the store's blob when it already had the file. */
function currentPath(store: BlobStore, file: FinishedFile): string {
  return file.verifiedFile && fs.existsSync(file.verifiedFile) ? file.verifiedFile : store.blobPath(file.sha256);
}

/**
 * Quantizes a finished download to `request.quantize.type` and commits one version: the quantized entry plus (ONNX) the
 * files it shares with the download (tokenizer, config), adopted into the store; the full-precision graph is not kept.
 */
export async function quantizeDownloaded(
  deps: QuantizeDownloadDeps,
  request: JobRequest,
  plan: JobPlan,
  files: FinishedFile[],
  endpoint: string,
  context: ActionContext,
  work: { signal: AbortSignal; onProgress: (fraction: number) => void },
): Promise<VersionInfo> {
  if (plan.format !== 'gguf' && plan.format !== 'onnx') throw new Error(`internal: cannot quantize a ${plan.format} download`);
  const target = quantizationTarget(plan.format, request.quantize?.type ?? '');
  // The files laid out as the engine reads a version: links to where each one lies now.
  const staging = path.join(deps.store.tempDir, `quantize-download-${randomUUID()}`);
  let output: QuantizedOutput | null = null;
  try {
    for (const file of files) {
      // The path comes from the hub's listing: it must stay inside the staging folder.
      assertSafeRelativePath(file.path);
      const link = path.join(staging, file.path);
      await fsp.mkdir(path.dirname(link), { recursive: true });
      // A hard link keeps the bytes readable even when another job sharing the file moves it into the store meanwhile.
      await fsp.link(currentPath(deps.store, file), link).catch(() => fsp.symlink(currentPath(deps.store, file), link));
    }
    const entry = files.find((f) => f.path === plan.entry);
    const manifest = { entry: plan.entry, files: files.map((f) => ({ path: f.path, sha256: f.sha256, size_bytes: f.size_bytes })) };
    const input = {
      dir: staging,
      manifest,
      format: plan.format,
      from: {
        repo_id: request.repo_id,
        revision: request.revision,
        commit_sha: plan.commit_sha,
        path: plan.entry,
        sha256: entry?.sha256 ?? null,
        endpoint,
      },
    };
    output = await runQuantization(input, target, deps.store.tempDir, { threads: deps.threads(), nice: deps.nice(), ...work });
    if (work.signal.aborted) throw work.signal.reason;
    const sharedPaths = new Set(output.shared.map((f) => f.path));
    const version = await commitQuantized({
      catalog: deps.catalog,
      store: deps.store,
      name: request.name,
      target,
      output,
      input,
      context,
      beforeCommit: () =>
        adoptFiles(
          deps.store,
          files.filter((f) => sharedPaths.has(f.path)),
          request.force_redownload,
        ),
    });
    output = null;
    return version;
  } finally {
    if (output) await discardOutput(output.tempFile);
    await fsp.rm(staging, { recursive: true, force: true });
  }
}
