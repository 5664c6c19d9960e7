// `hangar quantize NAME TYPE`: starts (or joins) a quantize job and draws its progress bar; Ctrl-C cancels it (a quantization cannot pause).
import { CliError } from './http-client.ts';
import { formatBytes } from './format.ts';
import type { PullContext as QuantizeContext } from './pull-command.ts';
import type { JobInfo, JobInfoWithoutRate, JobMessage } from '../schemas/hub.ts';

export interface QuantizeFlags {
  version?: string;
  name?: string;
  /** Redraw one bar in place (a terminal); otherwise print a line at each tenth. */
  tty?: boolean;
}

const BAR_WIDTH = 30;
const FINAL_MESSAGES = new Set(['download_completed', 'download_failed', 'download_cancelled']);

function progressLine(job: JobInfoWithoutRate, elapsedMs: number): string {
  const { percent } = job.progress;
  const filled = Math.round((percent / 100) * BAR_WIDTH);
  return `${job.quantize?.type ?? job.variant} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${percent.toFixed(1).padStart(5)}%  ${(elapsedMs / 1000).toFixed(1)}s`;
}

export async function quantize(
  c: QuantizeContext,
  name: string | undefined,
  type: string | undefined,
  flags: QuantizeFlags,
): Promise<number> {
  if (!name || !type)
    throw new CliError('usage: hangar quantize NAME TYPE [--version N] [--name NEW_NAME]   (TYPE: Q4_K_M, Q8_0, q4, q8, fp16…)', 2);
  const version = flags.version === undefined ? {} : { version: /^\d+$/.test(flags.version) ? Number(flags.version) : flags.version };
  const accepted = await c.client.request<{ job_id: string; deduplicated: boolean; job: JobInfo }>(
    'POST',
    `/api/v1/models/${encodeURIComponent(name)}/quantize`,
    { type, ...version, ...(flags.name ? { name: flags.name } : {}) },
  );
  const jobId = accepted.job_id;
  const started = Date.now();
  if (!c.json) {
    c.print(
      `${accepted.deduplicated ? 'Joining' : 'Quantizing'} ${accepted.job.quantize?.source ?? name} to ${accepted.job.quantize?.type ?? type} as ${accepted.job.model} — job ${jobId}`,
    );
  }
  let final: JobInfoWithoutRate | null = null;
  let interrupted = false;
  let lastTenth = -1;
  const onInterrupt = () => {
    interrupted = true;
    void c.client.request('DELETE', `/api/v1/jobs/${jobId}`).catch(() => undefined);
  };
  process.once('SIGINT', onInterrupt);
  try {
    await c.client.stream(
      `/api/v1/jobs/${jobId}/events`,
      undefined,
      (event) => {
        const message = event.data as unknown as JobMessage;
        if (!c.json) {
          if (flags.tty) c.write(`\r\x1b[2K${progressLine(message.job, Date.now() - started)}`);
          else if (Math.floor(message.job.progress.percent / 10) > lastTenth) {
            lastTenth = Math.floor(message.job.progress.percent / 10);
            c.print(progressLine(message.job, Date.now() - started));
          }
        }
        if (FINAL_MESSAGES.has(event.event)) final = message.job;
      },
      'GET',
    );
  } catch (error) {
    if (!interrupted) throw error;
  } finally {
    process.off('SIGINT', onInterrupt);
    if (flags.tty && !c.json) c.write('\n');
  }
  const job = (final as JobInfoWithoutRate | null) ?? (await c.client.request<JobInfo>('GET', `/api/v1/jobs/${jobId}`));
  if (c.json) c.print(JSON.stringify(job, null, 2));
  if (job.status === 'completed') {
    const result = job.result as {
      model?: string;
      version?: number;
      quantization?: string;
      size_bytes?: number;
      tensor_types?: Record<string, number>;
    };
    const mix = Object.entries(result.tensor_types ?? {})
      .map(([t, n]) => `${t}×${n}`)
      .join(' ');
    if (!c.json)
      c.print(`Created ${result.model}:${result.version} (${result.quantization}, ${formatBytes(result.size_bytes)}; tensors ${mix})`);
    return 0;
  }
  if (job.status === 'cancelled') throw new CliError(`The quantization was cancelled (job ${jobId}); nothing was stored`);
  throw new CliError(`Quantization failed: ${job.error?.message ?? job.status} (${job.error?.code ?? 'error'})`);
}
