// The Models page (seed 004's ModelsPanel): every model as a card or a table row, filtered from the URL, with live state.
import { useMemo, useRef } from 'react';
import { Link } from 'react-router-dom';
import { useCan } from '../api/session.ts';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { type ModelRow, useModelList, useStatusMap } from '../components/models/data.ts';
import { applyFilters, choices, useModelFilters } from '../components/models/filters.ts';
import { ModelCard } from '../components/models/ModelCard.tsx';
import { ModelFilters } from '../components/models/ModelFilters.tsx';
import { useModelLinkNavigation } from '../components/models/ModelLink.tsx';
import type { Permissions } from '../components/models/ModelActions.tsx';
import { ModelTable } from '../components/models/ModelTable.tsx';
import { UnloadIdle } from '../components/models/UnloadIdle.tsx';
import { useProgressive } from '../components/models/progressive.ts';

const FIRST_PAINT_ROWS = 24;

export function ModelsPage() {
  const list = useModelList();
  const statuses = useStatusMap();
  const { filters, view, setParam, clear, active } = useModelFilters();
  const operate = useCan('operator');
  const remove = useCan('admin');
  const can = useMemo<Permissions>(() => ({ operate, remove }), [operate, remove]);
  const listRef = useRef<HTMLDivElement>(null);
  useModelLinkNavigation(listRef);

  // Rows keep each summary and status object as the queries hand them over (structural sharing), so memoised cards skip work.
  const rows = useMemo<ModelRow[]>(
    () => (list.data ?? []).map((summary) => ({ summary, status: statuses.data?.[summary.name] })),
    [list.data, statuses.data],
  );
  const options = useMemo(() => choices(rows), [rows]);
  const shown = useMemo(() => applyFilters(rows, filters), [rows, filters]);
  // A screenful of cards (four columns of a wide screen, a few rows) is enough for the first paint.
  const rendered = useProgressive(shown, FIRST_PAINT_ROWS);
  const loaded = rows.filter((row) => row.status?.status === 'loaded').length;

  return (
    <section className="models-page" aria-labelledby="models-title">
      <div className="page-head">
        <h1 id="models-title">Models</h1>
        {list.data ? (
          <p className="muted" aria-live="polite">
            {shown.length === rows.length ? `${rows.length} models` : `${shown.length} of ${rows.length} models`} · {loaded} loaded
          </p>
        ) : null}
        {operate ? <UnloadIdle statuses={statuses.data} /> : null}
      </div>
      <ModelFilters filters={filters} view={view} options={options} onChange={setParam} onClear={clear} active={active} />
      <ErrorNote error={list.error ?? statuses.error} />
      {list.isPending ? (
        <p role="status" className="muted">
          Loading models…
        </p>
      ) : rows.length === 0 && list.data ? (
        <div className="card empty">
          <p>No models yet.</p>
          {operate ? <Link to="/download">Pull a model from the hub</Link> : null}
        </div>
      ) : shown.length === 0 && list.data ? (
        <div className="card empty">
          <p>No model matches these filters.</p>
          <button type="button" className="secondary" onClick={clear}>
            Show all models
          </button>
        </div>
      ) : null}
      <div ref={listRef}>
        {shown.length === 0 ? null : view === 'table' ? (
          <ModelTable rows={rendered} can={can} />
        ) : (
          <div className="grid model-grid">
            {rendered.map((row) => (
              <ModelCard key={row.summary.name} summary={row.summary} status={row.status} can={can} />
            ))}
          </div>
        )}
      </div>
    </section>
  );
}
