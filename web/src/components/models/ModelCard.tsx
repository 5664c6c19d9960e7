// One model as a card (seed 004's ModelCard): catalog facts, runtime state and measured memory, and its actions.
import { memo, useId } from 'react';
import type { ModelSummary } from '../../../../src/schemas/models.ts';
import type { ModelStatus } from '../../../../src/schemas/runtime.ts';
import { formatBytes, formatCount } from '../../format.ts';
import { deviceText, memoryText, requestsText, versionText } from './facts.ts';
import { KeepAlive, LastInference } from './KeepAlive.tsx';
import { ModelLink } from './ModelLink.tsx';
import { ModelActions, type Permissions } from './ModelActions.tsx';
import { StatusBadge } from './StatusBadge.tsx';

interface Props {
  summary: ModelSummary;
  status: ModelStatus | undefined;
  can: Permissions;
}

/** Memoised: a status refresh re-renders only the cards whose summary or status object changed. */
export const ModelCard = memo(function ModelCard({ summary, status, can }: Props) {
  const titleId = useId();
  return (
    <article className="card model-card" aria-labelledby={titleId}>
      <header className="model-card-head">
        <h2 id={titleId}>
          <ModelLink name={summary.name} />
        </h2>
        <span className="muted">{versionText(summary, status)}</span>
      </header>
      <p className="badges">
        {summary.format ? <span className="badge format">{summary.format}</span> : null}
        {summary.quantization ? <span className="badge quant">{summary.quantization}</span> : null}
        {status?.pinned ? <span className="badge pinned">pinned</span> : null}
        {summary.demo ? <span className="badge">demo</span> : null}
      </p>
      <StatusBadge status={status} />
      <dl className="facts">
        <dt>Architecture</dt>
        <dd>{summary.architecture ?? '—'}</dd>
        <dt>Parameters</dt>
        <dd>{formatCount(summary.parameter_count)}</dd>
        <dt>Size on disk</dt>
        <dd>{formatBytes(summary.size_bytes)}</dd>
        <dt>Backend</dt>
        <dd>{status?.backend ?? '—'}</dd>
        <dt>Device</dt>
        <dd title={status?.device_note ?? undefined}>{deviceText(status)}</dd>
        <dt>Memory</dt>
        <dd data-testid="memory">{memoryText(status)}</dd>
        <dt>Last inference</dt>
        <dd>
          <LastInference at={status?.last_inference} />
        </dd>
        <dt>Keep-alive</dt>
        <dd>
          <KeepAlive status={status} />
        </dd>
        <dt>Requests</dt>
        <dd>{requestsText(status)}</dd>
      </dl>
      {status?.device_note ? <p className="muted note">{status.device_note}</p> : null}
      <ModelActions summary={summary} status={status} can={can} />
    </article>
  );
});
