// The compact card of the model version a finished download created, linking to its detail page.
import { Link } from 'react-router-dom';
import type { JobInfo } from '../../../../src/schemas/hub.ts';
import { modelPath } from '../../api/client.ts';
import { formatBytes } from '../../format.ts';

/** The job's `result` of a completed download: {model, version, format, quantization, size_bytes}. */
export function downloadedVersion(job: JobInfo) {
  const result = job.result ?? {};
  if (job.status !== 'completed' || typeof result.model !== 'string') return null;
  return {
    model: result.model,
    version: typeof result.version === 'number' ? result.version : null,
    format: typeof result.format === 'string' ? result.format : job.format,
    quantization: typeof result.quantization === 'string' ? result.quantization : job.quantization,
    sizeBytes: typeof result.size_bytes === 'number' ? result.size_bytes : job.progress.bytes_total,
  };
}

export function ModelSummaryCard({ job }: { job: JobInfo }) {
  const version = downloadedVersion(job);
  if (!version) return null;
  return (
    <article className="card model-summary" aria-label={`Model ${version.model}`}>
      <h3>
        <Link to={`/models/${modelPath(version.model)}`}>{version.model}</Link>
      </h3>
      <p>
        {version.version !== null ? <span className="badge">v{version.version}</span> : null}
        <span className="badge">{version.format}</span>
        <span className="badge">{version.quantization}</span>
        <span className="badge">not_loaded</span>
      </p>
      <p className="muted">
        {formatBytes(version.sizeBytes)} from {job.repo_id}
        {job.kind === 'quantize' ? ` quantized to ${job.quantize?.type ?? job.variant}` : ` @ ${job.commit_sha.slice(0, 12)}`}
      </p>
    </article>
  );
}
