// Every version of the model, newest first: aliases, format, size, metrics, lineage, description and tags.
import type { ModelDetail } from '../../../../src/schemas/models.ts';
import { formatBytes, formatRelative } from '../../format.ts';
import { Lineage } from './Lineage.tsx';
import { formatMetric } from './metric-format.ts';
import { VersionNotes } from './VersionNotes.tsx';

/** A quantized version's tensor types as llama.cpp wrote them ("Q4_K ×9, Q6_K ×4, F32 ×5"). */
function tensorMix(types: unknown): string {
  if (types === null || typeof types !== 'object') return '';
  return `tensors: ${Object.entries(types as Record<string, number>)
    .map(([type, count]) => `${type} ×${count}`)
    .join(', ')}`;
}

export function VersionsTable({ detail }: { detail: ModelDetail }) {
  return (
    <section className="card" aria-labelledby="versions-heading">
      <h2 id="versions-heading">Versions</h2>
      <div className="table-scroll">
        <table aria-label="Versions">
          <thead>
            <tr>
              <th>Version</th>
              <th>Aliases</th>
              <th>Format</th>
              <th>Size</th>
              <th>Metrics</th>
              <th>Lineage</th>
              <th>Description and tags</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {detail.versions.map((version) => (
              <tr key={version.version} data-version={version.version}>
                <td>v{version.version}</td>
                <td>
                  {version.aliases.map((alias) => (
                    <span key={alias} className={`badge${alias === 'production' ? ' loaded' : ''}`}>
                      {alias}
                    </span>
                  ))}
                </td>
                <td>
                  {version.format}
                  {version.quantization ? <span className="badge">{version.quantization}</span> : null}
                  {version.source.kind === 'quantized' ? (
                    <span className="badge quant" title={tensorMix(version.metadata.tensor_types)}>
                      quantized
                    </span>
                  ) : null}
                </td>
                <td>{formatBytes(version.size_bytes)}</td>
                <td>
                  {Object.keys(version.metrics).length === 0 ? (
                    <span className="muted">none</span>
                  ) : (
                    <ul className="plain">
                      {Object.entries(version.metrics).map(([metric, value]) => (
                        <li key={metric}>
                          {metric}: {formatMetric(value)}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td>
                  <Lineage source={version.source} />
                </td>
                <td>
                  <VersionNotes version={version} />
                </td>
                <td title={version.created_at}>
                  {formatRelative(version.created_at)} by {version.created_by}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
