// A job's live progress: total and per-file bytes, speed and ETA, its actions, and the new model's card once done.
import type { JobInfo } from '../../../../src/schemas/hub.ts';
import { useCan } from '../../api/session.ts';
import { formatBytes, formatDuration } from '../../format.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { JobActions } from './JobActions.tsx';
import { ModelSummaryCard } from './ModelSummaryCard.tsx';
import { StatusBadge } from './StatusBadge.tsx';
import { ACTIVE_STATUSES, useJob } from './useJob.ts';

const percent = (done: number, total: number) => (total > 0 ? Math.min(100, (done / total) * 100) : 100);

function Bar({ label, done, total, note }: { label: string; done: number; total: number; note?: string }) {
  return (
    <div className="progress-row">
      <span className="progress-label">{label}</span>
      <progress aria-label={label} max={100} value={percent(done, total)} />
      <span className="muted">
        {formatBytes(done)} / {formatBytes(total)} ({percent(done, total).toFixed(0)}%){note ? ` · ${note}` : ''}
      </span>
    </div>
  );
}

export function JobProgress({ jobId }: { jobId: string }) {
  const job = useJob(jobId);
  const canOperate = useCan('operator');
  // A failed refetch keeps the job on screen (its note below it): swapping the section out would move every control in it.
  if (!job.data) return job.error ? <ErrorNote error={job.error} /> : <p className="muted">Loading job {jobId}…</p>;
  const data: JobInfo = job.data;
  const { progress } = data;
  const active = ACTIVE_STATUSES.has(data.status);
  return (
    <section className="card" aria-label={data.kind === 'quantize' ? 'Quantization progress' : 'Download progress'}>
      <h2>
        {data.kind === 'quantize'
          ? `Quantization of ${data.quantize?.source ?? data.repo_id} to ${data.quantize?.type ?? data.variant}`
          : `${data.kind === 'repair' ? 'Repair' : 'Download'} of ${data.repo_id} (${data.variant || data.quantization})`}
        {data.kind === 'download' && data.quantize ? `, quantized to ${data.quantize.type}` : ''}
      </h2>
      {/* Above the figures that change with every progress event, so the buttons stay where they are. */}
      {canOperate ? <JobActions job={data} /> : null}
      <p>
        Job status: <StatusBadge status={data.status} />
        {active ? (
          <span>
            {formatBytes(data.speed_bps)}/s · ETA {data.eta_s == null ? '—' : formatDuration(data.eta_s * 1000)}
          </span>
        ) : null}
        {progress.retries > 0 ? <span className="muted"> · {progress.retries} retries</span> : null}
      </p>
      <Bar label="Total" done={progress.bytes_done} total={progress.bytes_total} />
      <ul className="file-progress" aria-label="Files">
        {progress.files.map((file) => (
          <li key={file.path}>
            <Bar label={file.path} done={file.bytes_done} total={file.size_bytes} note={file.status} />
          </li>
        ))}
      </ul>
      {data.error ? (
        <p role="alert" className="error">
          {data.error.message} <span className="muted">({data.error.code})</span>
        </p>
      ) : null}
      <ModelSummaryCard job={data} />
      <ErrorNote error={job.error} />
    </section>
  );
}
