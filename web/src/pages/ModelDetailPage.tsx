// The Model detail page (/models/<name>, the name may hold `/`): versions, promotion, aliases, history, compare, integrity, memory, quantization, metrics.
import { Link, useParams } from 'react-router-dom';
import { useCan, useSession } from '../api/session.ts';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { AliasPanel } from '../components/detail/AliasPanel.tsx';
import { ComparePanel } from '../components/detail/ComparePanel.tsx';
import { HistoryTimeline } from '../components/detail/HistoryTimeline.tsx';
import { IntegrityPanel } from '../components/detail/IntegrityPanel.tsx';
import { LiveMetrics } from '../components/detail/LiveMetrics.tsx';
import { MemoryEstimate } from '../components/detail/MemoryEstimate.tsx';
import { PromotePanel } from '../components/detail/PromotePanel.tsx';
import { QuantizePanel } from '../components/detail/QuantizePanel.tsx';
import { useModelDetail } from '../components/detail/queries.ts';
import { VersionsTable } from '../components/detail/VersionsTable.tsx';
import { formatBytes, formatCount } from '../format.ts';

export function ModelDetailPage() {
  const name = useParams()['*'] ?? '';
  // Until the session is known the stored key may not be checked yet: asking then would be a 401.
  const signedIn = useSession().data?.role != null;
  const detail = useModelDetail(name, signedIn);
  const canPromote = useCan('admin');
  const model = detail.data;
  return (
    <div className="model-detail">
      <p>
        <Link to="/models">← All models</Link>
      </p>
      <h1>{name}</h1>
      <ErrorNote error={detail.error} />
      {detail.isPending || !signedIn ? <p className="muted">Loading…</p> : null}
      {model ? (
        <>
          <p className="summary">
            {model.production_version == null ? (
              <span className="badge">no production version</span>
            ) : (
              <span className="badge loaded">production v{model.production_version}</span>
            )}
            {model.format ? <span className="badge">{model.format}</span> : null}
            {model.quantization ? <span className="badge">{model.quantization}</span> : null}
            {model.architecture ?? ''} · {formatCount(model.parameter_count)} parameters · {formatBytes(model.size_bytes)} ·{' '}
            {model.version_count} version{model.version_count === 1 ? '' : 's'}
            {model.tags.map((tag) => (
              <span key={tag} className="badge">
                #{tag}
              </span>
            ))}
          </p>
          {model.description ? <p>{model.description}</p> : null}
          <VersionsTable detail={model} />
          <div className="detail-grid">
            {canPromote ? <PromotePanel detail={model} /> : null}
            <AliasPanel detail={model} />
            <HistoryTimeline name={model.name} />
            <LiveMetrics name={model.name} />
          </div>
          <ComparePanel detail={model} />
          <div className="detail-grid">
            <IntegrityPanel detail={model} />
            <MemoryEstimate name={model.name} />
          </div>
          <QuantizePanel detail={model} />
        </>
      ) : null}
    </div>
  );
}
