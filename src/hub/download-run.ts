// One download job's work once it runs: fetch its files (a few at once, each verified), then record the version or repair.
import type { Logger } from 'pino';
import type { ModelCatalog } from '../registry/catalog.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { HubClient } from './hub-client.ts';
import type { DownloadManager } from './download-manager.ts';
import { quantizeDownloadedFiles, type DownloadQuantizer } from './download-quantize-step.ts';
import { adoptFiles, importDownloadedVersion, type FinishedFile } from './hub-import.ts';
import type { JobPlan, JobStore, StoredJob } from './job-store.ts';
import type { ProgressTracker } from './progress.ts';

/** Files of a download fetched at once (each may itself use parallel byte ranges). */
const FILES_AT_ONCE = 2;

/** What a running job uses. */
export interface DownloadRunDeps {
  manager: DownloadManager;
  hub: HubClient;
  catalog: ModelCatalog;
  blobs: BlobStore;
  store: JobStore;
  logger: Logger;
  quantizer?: DownloadQuantizer;
}

/**
 * Fetches every file of `plan` not yet present or stored, FILES_AT_ONCE at a time, reporting progress through `tracker`
 * and `report` (force: send now); returns every file of the plan with its verified hash, the ones already there included.
 */
export async function fetchJobFiles(
  deps: DownloadRunDeps,
  job: StoredJob,
  plan: JobPlan,
  tracker: ProgressTracker,
  report: (force?: boolean) => void,
  signal: AbortSignal,
): Promise<FinishedFile[]> {
  const finished: FinishedFile[] = [];
  const queue = plan.files.filter((f) => f.status !== 'present' && f.status !== 'stored');
  for (const f of plan.files) {
    if (f.status === 'present' || f.status === 'stored')
      finished.push({ path: f.path, sha256: f.sha256 as string, size_bytes: f.size_bytes, verifiedFile: null });
  }
  const worker = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const current = file;
      tracker.begin(current.path);
      const result = await deps.manager.fetch(
        {
          url: deps.hub.resolveUrl(job.request.repo_id, plan.commit_sha, current.path),
          path: current.path,
          size_bytes: current.size_bytes,
          sha256: current.sha256,
          git_oid: current.git_oid,
        },
        {
          onProgress: (delta, resumed) => {
            tracker.add(current.path, delta, resumed === true);
            report();
          },
          onRetry: (info) => {
            plan.retries++;
            deps.logger.warn({ job: job.id, ...info }, 'download retry');
          },
        },
        signal,
      );
      plan.bytes_fetched += result.bytes_fetched;
      tracker.complete(current.path);
      finished.push({ path: current.path, sha256: result.sha256, size_bytes: current.size_bytes, verifiedFile: result.file });
      report(true);
    }
  };
  await Promise.all(Array.from({ length: FILES_AT_ONCE }, worker));
  return finished;
}

/**
 * Turns the fetched files into what the job was for: a repair adopts them into the store; a download records a new
 * version (through the quantize step when it asked for one). Returns the job's result.
 */
export async function finishJob(
  deps: DownloadRunDeps,
  job: StoredJob,
  plan: JobPlan,
  files: FinishedFile[],
  signal: AbortSignal,
  onQuantizeProgress: () => void,
): Promise<Record<string, unknown>> {
  const ordered = plan.files.map((f) => files.find((d) => d.path === f.path)).filter((f): f is FinishedFile => f !== undefined);
  const context = { actor: job.row.created_by };
  if (job.kind === 'repair') {
    await deps.catalog.runLocked(() => adoptFiles(deps.blobs, ordered, true));
    return { version_id: job.request.version_id, repaired: ordered.map((f) => f.path) };
  }
  const version = job.request.quantize
    ? await quantizeDownloadedFiles(
        { quantizer: deps.quantizer, store: deps.store, manager: deps.manager, endpoint: deps.hub.endpoint },
        job,
        ordered,
        signal,
        onQuantizeProgress,
      )
    : await importDownloadedVersion(deps.catalog, deps.blobs, job.request, plan, ordered, deps.hub.endpoint, context);
  for (const f of plan.files) f.status = 'stored';
  return {
    model: version.model,
    version: version.version,
    format: version.format,
    quantization: version.quantization,
    size_bytes: version.size_bytes,
  };
}
