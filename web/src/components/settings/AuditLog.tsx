// The audit log with filters (actor, action, target, outcome, time range) and paging, newest first, from GET /api/v1/audit.
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import type { Static } from 'typebox';
import type { AuditList } from '../../../../src/schemas/audit.ts';
import { get } from '../../api/client.ts';
import { ErrorNote } from '../ErrorNote.tsx';

type Audit = Static<typeof AuditList>;
const PAGE_SIZE = 25;
const EMPTY = { actor: '', action: '', target: '', outcome: '', since: '', until: '' };
type Filters = typeof EMPTY;

function queryString(filters: Filters, pageToken: string | null): string {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const [key, value] of Object.entries(filters)) {
    if (!value) continue;
    // datetime-local has no zone: the browser's local time, sent as an ISO instant.
    params.set(key, key === 'since' || key === 'until' ? new Date(value).toISOString() : value);
  }
  if (pageToken) params.set('page_token', pageToken);
  return params.toString();
}

export function AuditLog() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  // Tokens of the pages before this one, so Previous can go back (the API pages forward only).
  const [pages, setPages] = useState<(string | null)[]>([null]);
  const token = pages[pages.length - 1];
  const audit = useQuery({
    queryKey: ['audit', filters, token],
    queryFn: () => get<Audit>(`/api/v1/audit?${queryString(filters, token)}`),
    placeholderData: keepPreviousData,
  });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilters(draft);
    setPages([null]);
  };
  const field = (key: keyof Filters, label: string, type = 'text') => (
    <label>
      {label}
      <input type={type} value={draft[key]} onChange={(e) => setDraft({ ...draft, [key]: e.target.value })} />
    </label>
  );
  return (
    <section className="card" aria-labelledby="audit-heading">
      <h2 id="audit-heading">Audit log</h2>
      <form className="toolbar" onSubmit={apply} aria-label="Filter the audit log">
        {field('actor', 'Actor')}
        {field('action', 'Action (e.g. config.update)')}
        {field('target', 'Target')}
        <label>
          Outcome
          <select value={draft.outcome} onChange={(e) => setDraft({ ...draft, outcome: e.target.value })}>
            <option value="">any</option>
            <option value="success">success</option>
            <option value="failure">failure</option>
          </select>
        </label>
        {field('since', 'Since', 'datetime-local')}
        {field('until', 'Until', 'datetime-local')}
        <button type="submit">Filter</button>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setDraft(EMPTY);
            setFilters(EMPTY);
            setPages([null]);
          }}
        >
          Clear
        </button>
      </form>
      <ErrorNote error={audit.error} />
      <div className="table-scroll">
        <table aria-label="Audit events">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Outcome</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {audit.data?.events.map((event) => (
              <tr key={event.id}>
                <td>{new Date(event.at).toLocaleString()}</td>
                <td>{event.actor}</td>
                <td>{event.action}</td>
                <td>{event.target}</td>
                <td>
                  <span className={`badge ${event.outcome === 'failure' ? 'failed' : 'loaded'}`}>{event.outcome}</span>
                </td>
                <td>
                  <code className="audit-details">{JSON.stringify(event.details)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {audit.data?.events.length === 0 ? <p className="muted">No events match.</p> : null}
      <div className="toolbar">
        <button type="button" className="secondary" disabled={pages.length <= 1} onClick={() => setPages(pages.slice(0, -1))}>
          Previous page
        </button>
        <span className="muted">Page {pages.length}</span>
        <button
          type="button"
          className="secondary"
          disabled={!audit.data?.next_page_token}
          onClick={() => audit.data?.next_page_token && setPages([...pages, audit.data.next_page_token])}
        >
          Next page
        </button>
      </div>
    </section>
  );
}
