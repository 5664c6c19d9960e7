// Hub download jobs as Ollama pull lines: one `pulling <digest>` line per file whose byte count moved, and the end of a job.
import type { DownloadJobs, JobMessage } from '../../hub/download-jobs.ts';
import { HangarError, isErrorCode } from '../../errors.ts';
import type { JobInfoWithoutRate } from '../../schemas/hub.ts';
import type { OllamaPullProgress } from '../../app/ollama-library.ts';
import type { VersionInfo } from '../../schemas/models.ts';

type JobFile = JobInfoWithoutRate['progress']['files'][number];

/** Statuses after which a job sends nothing more. */
const ENDED = new Set(['completed', 'failed', 'cancelled', 'paused']);

/** Ollama names a layer `pulling <first 12 hex of its digest>`; files the hub gives no sha256 are named by path. */
function fileLine(file: JobFile): OllamaPullProgress {
  const progress = { total: file.size_bytes, completed: file.bytes_done };
  if (file.sha256 === null) return { status: `pulling ${file.path}`, ...progress };
  return { status: `pulling ${file.sha256.slice(0, 12)}`, digest: `sha256:${file.sha256}`, ...progress };
}

/** Turns successive job states into the lines of files that moved since the last one (every file once at first). */
export class PullLines {
  private readonly sent = new Map<string, number>();

  of(job: JobInfoWithoutRate): OllamaPullProgress[] {
    const lines: OllamaPullProgress[] = [];
    for (const file of job.progress.files) {
      if (this.sent.get(file.path) === file.bytes_done) continue;
      this.sent.set(file.path, file.bytes_done);
      lines.push(fileLine(file));
    }
    return lines;
  }
}

/** The lines of a version whose files are all stored already (an up-to-date pull). */
export function storedLines(version: VersionInfo): OllamaPullProgress[] {
  return version.manifest.files.map((f) =>
    fileLine({ path: f.path, sha256: f.sha256, size_bytes: f.size_bytes, bytes_done: f.size_bytes, git_oid: null, status: 'present' }),
  );
}

/** The lines Ollama ends a successful pull with (Hangar verified each file's sha256 while it streamed). */
export const PULL_DONE: OllamaPullProgress[] = [
  { status: 'verifying sha256 digest' },
  { status: 'writing manifest' },
  { status: 'success' },
];

/** Why a job that ended did not complete, as the error Hangar would answer with. */
export function jobFailure(job: JobInfoWithoutRate): HangarError {
  if (job.status === 'failed' && job.error) {
    return new HangarError(isErrorCode(job.error.code) ? job.error.code : 'download_failed', job.error.message, { job_id: job.id });
  }
  const advice = job.status === 'paused' ? 'pull again to resume it' : 'pull again to start over';
  return new HangarError('download_failed', `The download job ${job.id} was ${job.status}; ${advice}`, { job_id: job.id });
}

/**
 * Calls `onState` with each state of job `jobId` (the current one first) until it ends, then resolves with the last;
 * `signal` stops following (the job itself runs on: a pull is a background job that any later pull joins).
 */
export function followJob(
  jobs: DownloadJobs,
  jobId: string,
  onState: (job: JobInfoWithoutRate) => void,
  signal?: AbortSignal,
): Promise<JobInfoWithoutRate | null> {
  return new Promise((resolve, reject) => {
    let done = false;
    const detach = () => {
      done = true;
      jobs.off('message', listener);
      signal?.removeEventListener('abort', stop);
    };
    const finish = (job: JobInfoWithoutRate | null) => {
      if (done) return;
      detach();
      resolve(job);
    };
    const listener = (message: JobMessage) => {
      if (done || message.job_id !== jobId) return;
      onState(message.job);
      if (ENDED.has(message.job.status)) finish(message.job);
    };
    const stop = () => finish(null);
    // Listening first, then reading the state, so no message falls between the two.
    jobs.on('message', listener);
    signal?.addEventListener('abort', stop, { once: true });
    jobs.get(jobId).then(
      (job) => {
        if (done) return;
        onState(job);
        if (ENDED.has(job.status)) finish(job);
      },
      (error: unknown) => {
        if (done) return;
        detach();
        reject(error);
      },
    );
  });
}
