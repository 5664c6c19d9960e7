// Integrity of one version: validate (every byte hashed, format requirements), repair a hub version, or read the last stored report.
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import type { IntegrityReport as Report } from '../../../../src/schemas/integrity.ts';
import type { ModelDetail } from '../../../../src/schemas/models.ts';
import { ApiError, get, modelPath, post } from '../../api/client.ts';
import { useCan } from '../../api/session.ts';
import { formatBytes, formatRelative } from '../../format.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { useRefreshModel } from './queries.ts';

function ReportView({ report }: { report: Report }) {
  return (
    <section className="integrity-report" aria-label="Integrity report">
      <p>
        <span className={`badge ${report.valid ? 'loaded' : 'failed'}`}>{report.valid ? 'valid' : 'invalid'}</span>v{report.version},{' '}
        {report.check === 'full' ? 'full check (every byte hashed)' : 'quick check (presence and sizes)'},{' '}
        <time dateTime={report.checked_at}>{formatRelative(report.checked_at)}</time>
      </p>
      {report.problems.length > 0 ? (
        <ul className="error">
          {report.problems.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      ) : null}
      {report.repair ? (
        <p>
          Repaired: {report.repair.repaired.join(', ') || 'nothing'}
          {report.repair.job_id ? ` (download job ${report.repair.job_id})` : ''}
        </p>
      ) : null}
      <ul className="plain">
        {report.required.map((check) => (
          <li key={check.requirement}>
            {check.ok ? '✓' : '✗'} {check.requirement}: <span className="muted">{check.detail}</span>
          </li>
        ))}
      </ul>
      <div className="table-scroll">
        <table aria-label="Files checked">
          <thead>
            <tr>
              <th>File</th>
              <th>Present</th>
              <th>Size</th>
              <th>sha256</th>
            </tr>
          </thead>
          <tbody>
            {report.files.map((file) => (
              <tr key={file.path}>
                <td>{file.path}</td>
                <td>{file.present ? 'yes' : 'missing'}</td>
                <td>
                  {formatBytes(file.size_bytes)}
                  {file.size_bytes !== file.expected_size_bytes ? ` (expected ${formatBytes(file.expected_size_bytes)})` : ''}
                </td>
                <td>{file.sha256_match == null ? 'not hashed' : file.sha256_match ? 'matches' : 'differs'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function IntegrityPanel({ detail }: { detail: ModelDetail }) {
  const canValidate = useCan('operator');
  const refresh = useRefreshModel(detail.name);
  const [chosen, setChosen] = useState<string>('');
  const version = Number(chosen || (detail.resolved_version ?? detail.versions[0]?.version ?? 1));
  const isHub = detail.versions.find((v) => v.version === version)?.source.kind === 'hub';
  const ref = `${modelPath(detail.name)}:${version}`;
  // The last report is read on request only: a version never validated answers 404, which the page should not fetch unasked.
  const action = useMutation({
    mutationFn: async (kind: 'validate' | 'repair' | 'last'): Promise<Report | null> => {
      if (kind === 'last') {
        return get<Report>(`/api/v1/models/${ref}/integrity`).catch((error: unknown) => {
          if (error instanceof ApiError && error.code === 'not_validated') return null;
          throw error;
        });
      }
      return post<Report>(`/api/v1/models/validate/${ref}${kind === 'repair' ? '?repair=true' : ''}`);
    },
    onSuccess: (_report, kind) => {
      if (kind !== 'last') void refresh();
    },
  });
  const report = action.data;

  return (
    <section className="card" aria-labelledby="integrity-heading">
      <h2 id="integrity-heading">Integrity</h2>
      <div className="toolbar">
        <label>
          Version to check
          <select
            value={String(version)}
            onChange={(e) => {
              setChosen(e.target.value);
              action.reset();
            }}
          >
            {detail.versions.map((v) => (
              <option key={v.version} value={v.version}>
                v{v.version}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="secondary" disabled={action.isPending} onClick={() => action.mutate('last')}>
          Show last report
        </button>
        {canValidate ? (
          <button type="button" disabled={action.isPending} onClick={() => action.mutate('validate')}>
            Validate
          </button>
        ) : null}
        {canValidate && isHub ? (
          <button type="button" className="secondary" disabled={action.isPending} onClick={() => action.mutate('repair')}>
            Repair from hub
          </button>
        ) : null}
      </div>
      {action.isPending ? <p className="muted">Checking…</p> : null}
      <ErrorNote error={action.error} />
      {report === null ? <p className="muted">v{version} has never been validated.</p> : null}
      {report ? <ReportView report={report} /> : null}
    </section>
  );
}
