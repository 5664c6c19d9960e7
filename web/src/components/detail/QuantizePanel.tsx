// Quantize a full-precision version: each type with its estimated memory and fit before anything exists, the versions already made, and the job's live progress.
import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import type { DownloadAccepted } from '../../../../src/schemas/hub.ts';
import type { ModelDetail } from '../../../../src/schemas/models.ts';
import { modelPath, post } from '../../api/client.ts';
import { useCan } from '../../api/session.ts';
import { formatBytes } from '../../format.ts';
import { JobProgress } from '../download/JobProgress.tsx';
import { ACTIVE_STATUSES, useJob } from '../download/useJob.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { useMemoryEstimate, useRefreshModel } from './queries.ts';

/** File types and dtypes that hold weights as trained: the ones Hangar quantizes from. */
const FULL_PRECISION = new Set(['F32', 'F16', 'BF16', 'fp32']);
const isFullPrecision = (quantization: string | null) => quantization === null || FULL_PRECISION.has(quantization);

export function QuantizePanel({ detail }: { detail: ModelDetail }) {
  const canQuantize = useCan('operator');
  const refresh = useRefreshModel(detail.name);
  const sources = detail.versions.filter((v) => isFullPrecision(v.quantization) && (v.format === 'gguf' || v.format === 'onnx'));
  const [chosen, setChosen] = useState('');
  const source = sources.find((v) => String(v.version) === chosen) ?? sources[0];
  const estimate = useMemoryEstimate(source ? `${detail.name}:${source.version}` : detail.name, null, source !== undefined);
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useJob(jobId);
  const finished = job.data ? !ACTIVE_STATUSES.has(job.data.status) : false;
  // Once per job: the new version joins the tables (the live event would also bring it).
  const refreshed = useRef<string | null>(null);
  useEffect(() => {
    if (!finished || refreshed.current === jobId) return;
    refreshed.current = jobId;
    void refresh();
  }, [finished, jobId, refresh]);
  const start = useMutation({
    mutationFn: (type: string) =>
      post<DownloadAccepted>(`/api/v1/models/${modelPath(detail.name)}/quantize`, { type, version: source?.version }),
    onSuccess: (accepted) => setJobId(accepted.job_id),
  });
  const options = estimate.data?.quantization_options ?? [];
  const cpu = (devices: Array<{ device: string; fits: boolean }>) => devices.find((d) => d.device === 'cpu');
  return (
    <section className="card" aria-labelledby="quantize-heading">
      <h2 id="quantize-heading">Quantize</h2>
      {source === undefined ? (
        <p className="muted">Every version is already quantized: quantizing needs a full-precision version (F32, F16, BF16 or fp32).</p>
      ) : (
        <>
          <label>
            From version
            <select value={String(source.version)} onChange={(event) => setChosen(event.target.value)}>
              {sources.map((v) => (
                <option key={v.version} value={v.version}>
                  v{v.version} ({v.quantization ?? v.format}, {formatBytes(v.size_bytes)})
                </option>
              ))}
            </select>
          </label>
          <ErrorNote error={estimate.error} />
          {estimate.data ? (
            <p className="muted">
              As it is: {formatBytes(estimate.data.total_bytes)} to load ({estimate.data.quantization ?? estimate.data.format}).
            </p>
          ) : null}
          <div className="table-scroll">
            <table aria-label="Quantization options">
              <thead>
                <tr>
                  <th>Type</th>
                  <th>Weights</th>
                  <th>Memory to load</th>
                  <th>CPU</th>
                  <th>Version</th>
                </tr>
              </thead>
              <tbody>
                {options.map((option) => {
                  const fit = cpu(option.devices);
                  return (
                    <tr key={option.type} data-type={option.type}>
                      <th scope="row">
                        {option.type}
                        {option.bits ? <span className="muted"> · {option.bits}-bit</span> : null}
                      </th>
                      <td>{formatBytes(option.weights_bytes)}</td>
                      <td>{formatBytes(option.total_bytes)}</td>
                      <td>
                        {fit ? (
                          <span className={`badge ${fit.fits ? 'loaded' : 'failed'}`}>{fit.fits ? 'fits' : 'does not fit'}</span>
                        ) : null}
                      </td>
                      <td>
                        {option.version != null ? (
                          <span className="badge quant">v{option.version}</span>
                        ) : canQuantize ? (
                          <button
                            type="button"
                            onClick={() => start.mutate(option.type)}
                            disabled={start.isPending || (job.data ? ACTIVE_STATUSES.has(job.data.status) : false)}
                          >
                            Quantize to {option.type}
                          </button>
                        ) : (
                          <span className="muted">not made</span>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <ErrorNote error={start.error} />
        </>
      )}
      {jobId ? <JobProgress jobId={jobId} /> : null}
    </section>
  );
}
