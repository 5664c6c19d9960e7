// Repo id input with suggestions from the hub's model search, as an ARIA combobox (arrow keys, Enter, Escape).
import { useQuery } from '@tanstack/react-query';
import { type KeyboardEvent, useEffect, useId, useState } from 'react';
import type { HubSearchResult } from '../../../../src/schemas/hub.ts';
import { get } from '../../api/client.ts';
import { formatCount } from '../../format.ts';

const SEARCH_DELAY_MS = 250;

export function RepoSearch({ initial, onChoose }: { initial: string; onChoose: (repoId: string) => void }) {
  const [text, setText] = useState(initial);
  const [term, setTerm] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const listId = useId();
  // Searching waits for a pause in typing: one hub call per word, not per key.
  useEffect(() => {
    const timer = setTimeout(() => setTerm(text.trim()), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text]);
  const search = useQuery({
    queryKey: ['hub-search', term],
    queryFn: () => get<HubSearchResult>(`/api/v1/hub/search?q=${encodeURIComponent(term)}&limit=8`),
    enabled: term.length >= 2,
    refetchInterval: false,
    staleTime: 30_000,
  });
  const models = term.length >= 2 ? (search.data?.models ?? []) : [];
  const expanded = open && models.length > 0;

  const choose = (repoId: string) => {
    setText(repoId);
    setOpen(false);
    setActive(-1);
    if (repoId.trim()) onChoose(repoId.trim());
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown' && models.length) {
      event.preventDefault();
      setOpen(true);
      setActive((i) => (i + 1) % models.length);
    } else if (event.key === 'ArrowUp' && models.length) {
      event.preventDefault();
      setActive((i) => (i <= 0 ? models.length - 1 : i - 1));
    } else if (event.key === 'Enter') {
      event.preventDefault();
      choose(expanded && active >= 0 ? models[active].repo_id : text);
    } else if (event.key === 'Escape') {
      setOpen(false);
    }
  };

  return (
    <div className="repo-search">
      <label>
        Hub repo id
        <input
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={expanded}
          aria-controls={listId}
          aria-activedescendant={expanded && active >= 0 ? `${listId}-${active}` : undefined}
          autoComplete="off"
          spellCheck={false}
          placeholder="org/name, e.g. TheBloke/TinyLlama…"
          value={text}
          onChange={(event) => {
            setText(event.target.value);
            setOpen(true);
            setActive(-1);
          }}
          onFocus={() => setOpen(true)}
          onBlur={() => setOpen(false)}
          onKeyDown={onKeyDown}
        />
      </label>
      <button type="button" onClick={() => choose(text)} disabled={!text.trim()}>
        Show repo
      </button>
      {search.isFetching ? <span className="muted">Searching the hub…</span> : null}
      {search.error ? <span className="error">Hub search failed: {(search.error as Error).message}</span> : null}
      <div id={listId} role="listbox" aria-label="Hub suggestions" className="suggestions" hidden={!expanded}>
        {models.map((model, index) => (
          <div
            key={model.repo_id}
            id={`${listId}-${index}`}
            role="option"
            // Focus stays in the input (aria-activedescendant); -1 keeps the option out of the tab order.
            tabIndex={-1}
            aria-selected={index === active}
            // mousedown, not click: the input's blur would close the list before a click lands.
            onMouseDown={(event) => {
              event.preventDefault();
              choose(model.repo_id);
            }}
          >
            <strong>{model.repo_id}</strong>
            <span className="muted">
              {' '}
              {model.pipeline_tag ?? ''} · {formatCount(model.downloads)} downloads{model.private ? ' · private' : ''}
              {model.gated ? ' · gated' : ''}
            </span>
          </div>
        ))}
      </div>
    </div>
  );
}
