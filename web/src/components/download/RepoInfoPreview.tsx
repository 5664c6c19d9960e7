// What a hub repo holds, before downloading: architecture, parameters, context, licence, notes and its files.
import type { HubModelInfo } from '../../../../src/schemas/hub.ts';
import { formatBytes, formatCount } from '../../format.ts';

export function RepoInfoPreview({ info }: { info: HubModelInfo }) {
  const facts: Array<[string, string]> = [
    ['Format', info.format ?? 'unknown'],
    ['Architecture', info.architecture ?? '—'],
    ['Parameters', formatCount(info.parameter_count)],
    ['Context', info.context_length == null ? '—' : `${formatCount(info.context_length)} tokens`],
    ['Licence', info.license ?? '—'],
    ['Task', info.pipeline_tag ?? '—'],
    ['Commit', info.commit_sha.slice(0, 12)],
    ['Repo size', formatBytes(info.total_size_bytes)],
  ];
  return (
    <section className="card" aria-label="Repo info">
      <h2>{info.repo_id}</h2>
      <dl className="repo-facts">
        {facts.map(([term, value]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      {info.private ? <span className="badge">private</span> : null}
      {info.gated ? <span className="badge">gated</span> : null}
      {info.notes.map((note) => (
        <p key={note} className="muted">
          {note}
        </p>
      ))}
      <details>
        <summary>Files ({info.files.length})</summary>
        <table aria-label="Repo files">
          <thead>
            <tr>
              <th scope="col">Path</th>
              <th scope="col">Size</th>
            </tr>
          </thead>
          <tbody>
            {info.files.map((file) => (
              <tr key={file.path}>
                <td>{file.path}</td>
                <td>{formatBytes(file.size_bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}
