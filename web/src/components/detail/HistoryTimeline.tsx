// Deployment history as a timeline, newest first: promotions, demotions, rollbacks and live swaps with actor, reason and time.
import { formatRelative } from '../../format.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { useDeploymentHistory } from './queries.ts';

const version = (v: number | null) => (v == null ? 'none' : `v${v}`);

export function HistoryTimeline({ name }: { name: string }) {
  const history = useDeploymentHistory(name);
  const events = history.data?.events ?? [];
  return (
    <section className="card" aria-labelledby="history-heading">
      <h2 id="history-heading">Deployment history</h2>
      <ErrorNote error={history.error} />
      {history.isPending ? <p className="muted">Loading…</p> : null}
      {history.data && events.length === 0 ? <p className="muted">Never promoted.</p> : null}
      <ol className="timeline" aria-label="Deployment history">
        {events.map((event) => (
          <li key={event.seq} className={`timeline-${event.action}`}>
            <span className="badge">{event.action}</span> {version(event.from_version)} → {version(event.to_version)}
            <span className="muted">
              {' '}
              by {event.actor}, <time dateTime={event.at}>{formatRelative(event.at)}</time>
            </span>
            {event.reason ? <div className="reason">“{event.reason}”</div> : null}
          </li>
        ))}
      </ol>
    </section>
  );
}
