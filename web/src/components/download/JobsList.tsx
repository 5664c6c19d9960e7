// Every download and repair job, newest first, with status, progress and actions; live through the ['jobs'] key.
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import type { JobInfo } from '../../../../src/schemas/hub.ts';
import { get } from '../../api/client.ts';
import { useCan } from '../../api/session.ts';
import { formatBytes, formatRelative } from '../../format.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { JobActions } from './JobActions.tsx';
import { StatusBadge } from './StatusBadge.tsx';
import { ACTIVE_STATUSES } from './useJob.ts';

export function JobsList() {
  const canOperate = useCan('operator');
  const jobs = useQuery({
    queryKey: ['jobs', 'list'],
    queryFn: () => get<{ jobs: JobInfo[] }>('/api/v1/jobs?limit=50'),
    // Progress events do not reach /api/v1/events (only starts and ends do): poll faster while a job moves.
    refetchInterval: (query) => (query.state.data?.jobs.some((job) => ACTIVE_STATUSES.has(job.status)) ? 1000 : 5000),
  });
  const list = jobs.data?.jobs ?? [];
  return (
    <section aria-label="Jobs">
      <h2>Jobs</h2>
      <ErrorNote error={jobs.error} />
      {jobs.isPending ? <p className="muted">Loading jobs…</p> : null}
      {!jobs.isPending && list.length === 0 ? <p className="muted">No download or repair jobs yet.</p> : null}
      {list.length > 0 ? (
        <div className="table-scroll">
          <table aria-label="Jobs">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Model</th>
                <th scope="col">Variant</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Started</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.map((job) => (
                <tr key={job.id}>
                  <td>{job.kind}</td>
                  <td>
                    <Link to={`/download?job=${encodeURIComponent(job.id)}`} aria-label={`Job ${job.id} of ${job.model}`}>
                      {job.model}
                    </Link>
                    <div className="muted">{job.repo_id}</div>
                  </td>
                  <td>{job.variant || job.quantization}</td>
                  <td>
                    <StatusBadge status={job.status} />
                    {job.error ? <div className="error">{job.error.message}</div> : null}
                  </td>
                  <td>
                    <progress aria-label={`Progress of ${job.model}`} max={100} value={job.progress.percent} />{' '}
                    <span className="muted">
                      {job.progress.percent.toFixed(0)}% of {formatBytes(job.progress.bytes_total)}
                    </span>
                  </td>
                  <td>{formatRelative(job.created_at)}</td>
                  <td>{canOperate ? <JobActions job={job} labelSuffix={job.model} /> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
