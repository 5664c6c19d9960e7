// The quantize step of a download with `quantize`: the verified files become the quantized version, and the full-precision files go.
import type { ActionContext } from '../registry/audit.ts';
import type { VersionInfo } from '../schemas/models.ts';
import { HangarError } from '../errors.ts';
import type { DownloadManager } from './download-manager.ts';
import type { QuantizeTypeFor } from './download-plan.ts';
import type { FinishedFile } from './hub-import.ts';
import type { JobPlan, JobRequest, JobStore, StoredJob } from './job-store.ts';

export type QuantizeDownload = (
  request: JobRequest,
  plan: JobPlan,
  files: FinishedFile[],
  endpoint: string,
  context: ActionContext,
  work: { signal: AbortSignal; onProgress: (fraction: number) => void },
) => Promise<VersionInfo>;

/** What the quantize module gives downloads: the type check at submit and the step that records the quantized version. */
export interface DownloadQuantizer {
  typeFor: QuantizeTypeFor;
  run: QuantizeDownload;
}

export interface QuantizeStepDeps {
  quantizer: DownloadQuantizer | undefined;
  store: JobStore;
  manager: DownloadManager;
  endpoint: string;
}

/**
 * Quantizes a finished download (its entry file shows `quantizing` meanwhile, announced through `announce`), then
 * discards the full-precision files the new version does not use, unless another active job needs the same bytes.
 */
export async function quantizeDownloadedFiles(
  deps: QuantizeStepDeps,
  job: StoredJob,
  files: FinishedFile[],
  signal: AbortSignal,
  announce: () => void,
): Promise<VersionInfo> {
  if (!deps.quantizer) throw new HangarError('service_unavailable', 'This server cannot quantize downloads');
  const plan = job.plan;
  const entry = plan.files.find((f) => f.path === plan.entry);
  if (entry) entry.status = 'quantizing';
  announce();
  const version = await deps.quantizer.run(
    job.request,
    plan,
    files,
    deps.endpoint,
    { actor: job.row.created_by },
    {
      signal,
      onProgress: () => undefined,
    },
  );
  const kept = new Set(version.manifest.files.map((f) => f.path));
  const needed = new Set<string>();
  for (const other of await deps.store.listActive()) {
    if (other.id !== job.id) for (const f of other.plan.files) if (f.sha256) needed.add(f.sha256);
  }
  for (const file of plan.files) {
    if (!kept.has(file.path) && !(file.sha256 && needed.has(file.sha256))) await deps.manager.discard({ url: '', ...file });
  }
  return version;
}
