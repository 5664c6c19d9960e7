// `hangar pull REPO`: starts (or rejoins) a hub download and draws a progress bar per file; Ctrl-C pauses it for the next pull.
import { CliError, type HangarStreamClient } from './http-client.ts';
import { formatBytes } from './format.ts';
import type { JobInfo, JobInfoWithoutRate, JobMessage } from '../schemas/hub.ts';

export interface PullContext {
  client: HangarStreamClient;
  json: boolean;
  print: (text: string) => void;
  write: (text: string) => void;
}

export interface PullOptions {
  variant?: string;
  revision?: string;
  name?: string;
  force?: boolean;
  /** Draw bars redrawn in place (a terminal); otherwise print a line per finished file. */
  tty?: boolean;
}

type JobFile = JobInfo['progress']['files'][number];

const BAR_WIDTH = 24;

function bar(done: number, total: number): string {
  const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
}

function eta(seconds: number | null): string {
  if (seconds === null) return '--';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  return `${Math.floor(seconds / 60)}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`;
}

function fileLine(file: JobFile, width: number): string {
  const percent = file.size_bytes === 0 ? 100 : Math.floor((file.bytes_done / file.size_bytes) * 100);
  const state =
    file.status === 'present' ? 'already stored' : file.status === 'verified' || file.status === 'stored' ? 'verified' : `${percent}%`;
  return `${file.path.padEnd(width)} ${bar(file.bytes_done, file.size_bytes)} ${formatBytes(file.bytes_done).padStart(9)} / ${formatBytes(file.size_bytes).padEnd(9)} ${state}`;
}

/** Renders job messages: redrawn bars on a terminal, one line per finished file otherwise. */
class ProgressView {
  private drawn = 0;
  private readonly printed = new Set<string>();

  constructor(
    private readonly c: PullContext,
    private readonly tty: boolean,
  ) {}

  update(message: JobMessage): void {
    const files = message.job.progress.files;
    const width = Math.min(48, Math.max(...files.map((f) => f.path.length), 4));
    if (this.tty) {
      const total = message.job.progress;
      const lines = [
        ...files.map((f) => fileLine(f, width)),
        `${'total'.padEnd(width)} ${bar(total.bytes_done, total.bytes_total)} ${formatBytes(total.bytes_done).padStart(9)} / ${formatBytes(total.bytes_total).padEnd(9)} ${formatBytes(message.speed_bps)}/s  ETA ${eta(message.eta_s)}`,
      ];
      this.c.write(`${this.drawn ? `\x1b[${this.drawn}A` : ''}${lines.map((l) => `\x1b[2K${l}\n`).join('')}`);
      this.drawn = lines.length;
      return;
    }
    for (const file of files) {
      const finished = file.status === 'verified' || file.status === 'stored' || file.status === 'present';
      if (finished && !this.printed.has(file.path)) {
        this.printed.add(file.path);
        this.c.print(fileLine(file, width));
      }
    }
  }
}

export async function pull(c: PullContext, repoId: string | undefined, options: PullOptions): Promise<number> {
  if (!repoId) throw new CliError('usage: hangar pull REPO [--variant Q8_0] [--revision REV] [--name NAME] [--force]', 2);
  const accepted = await c.client.request<{ job_id: string; deduplicated: boolean; job: JobInfo }>('POST', '/api/v1/models/download', {
    repo_id: repoId,
    ...(options.variant ? { variant: options.variant } : {}),
    ...(options.revision ? { revision: options.revision } : {}),
    ...(options.name ? { name: options.name } : {}),
    ...(options.force ? { force_redownload: true } : {}),
  });
  const jobId = accepted.job_id;
  if (!c.json)
    c.print(
      `${accepted.deduplicated ? 'Resuming' : 'Pulling'} ${repoId} (${accepted.job.variant}) as ${accepted.job.model} — job ${jobId}`,
    );
  const view = new ProgressView(c, options.tty ?? false);
  let final: JobInfoWithoutRate | null = null;
  let interrupted = false;
  // Ctrl-C pauses the job on the server, keeping its partial files: the same pull later resumes it.
  const onInterrupt = () => {
    interrupted = true;
    void c.client.request('POST', `/api/v1/jobs/${jobId}/pause`).catch(() => undefined);
  };
  process.once('SIGINT', onInterrupt);
  try {
    await c.client.stream(
      `/api/v1/jobs/${jobId}/events`,
      undefined,
      (event) => {
        const message = event.data as unknown as JobMessage;
        if (!c.json) view.update(message);
        if (['download_completed', 'download_failed', 'download_cancelled', 'download_paused'].includes(event.event)) final = message.job;
      },
      'GET',
    );
  } catch (error) {
    if (!interrupted) throw error;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
  const job = (final as JobInfoWithoutRate | null) ?? (await c.client.request<JobInfo>('GET', `/api/v1/jobs/${jobId}`));
  if (c.json) c.print(JSON.stringify(job, null, 2));
  switch (job.status) {
    case 'completed':
      if (!c.json)
        c.print(
          `Pulled ${job.result?.model}:${job.result?.version} (${job.result?.quantization ?? job.variant}); every file verified against the hub's sha256`,
        );
      return 0;
    case 'paused':
      if (!c.json)
        c.print(
          `Paused at ${formatBytes(job.progress.bytes_done)} of ${formatBytes(job.progress.bytes_total)}; run the same pull again to resume.`,
        );
      return 130;
    case 'cancelled':
      throw new CliError(`The download was cancelled (job ${jobId})`);
    default:
      throw new CliError(`Download failed: ${job.error?.message ?? job.status} (${job.error?.code ?? 'error'})`);
  }
}
