// The effective configuration with each value's source; admins change live settings through PATCH /config, errors per field.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useMemo, useState } from 'react';
import type { ConfigView, PatchResult } from '../../../../src/schemas/config.ts';
import { ApiError, get, patch } from '../../api/client.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { configFields, draftValue, fieldErrors, mergePatch } from './configFields.ts';
import { SettingRow } from './SettingRow.tsx';

export function ConfigEditor({ editable }: { editable: boolean }) {
  const client = useQueryClient();
  const config = useQuery({ queryKey: ['config'], queryFn: () => get<ConfigView>('/api/v1/config') });
  const schema = useQuery({
    queryKey: ['config', 'schema'],
    queryFn: () => get<Record<string, unknown>>('/api/v1/config/schema'),
    staleTime: Infinity,
  });
  const [drafts, setDrafts] = useState<Record<string, string | boolean>>({});
  const [filter, setFilter] = useState('');
  const fields = useMemo(() => (config.data && schema.data ? configFields(config.data, schema.data) : []), [config.data, schema.data]);
  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) => patch<PatchResult>('/api/v1/config', body),
    onSuccess: async () => {
      setDrafts({});
      await client.invalidateQueries({ queryKey: ['config'] });
      await client.invalidateQueries({ queryKey: ['audit'] });
    },
  });
  const errors = save.error instanceof ApiError ? fieldErrors(save.error.details) : {};
  const changed = Object.keys(drafts);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const byPath = new Map(fields.map((f) => [f.path, f]));
    const changes = Object.fromEntries(
      Object.entries(drafts).flatMap(([path, draft]) => {
        const field = byPath.get(path);
        return field ? [[path, draftValue(field, draft)]] : [];
      }),
    );
    save.mutate(mergePatch(changes));
  };
  const shown = fields.filter((f) => f.path.includes(filter.trim().toLowerCase()));
  const result = save.data;
  return (
    <section className="card" aria-labelledby="config-heading">
      <h2 id="config-heading">Configuration</h2>
      <p className="muted">
        The effective configuration and where each value comes from (default, file, dotenv, env, api); environment variables win over the
        file.
        {config.data ? ` Changes are saved to ${config.data._meta.config_file}.` : ''}
      </p>
      <ErrorNote error={config.error ?? schema.error} />
      <form onSubmit={submit}>
        <div className="toolbar">
          <label>
            Find a setting
            <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
          </label>
          {editable ? (
            <>
              <button type="submit" disabled={changed.length === 0 || save.isPending}>
                {save.isPending ? 'Saving…' : `Save changes${changed.length ? ` (${changed.length})` : ''}`}
              </button>
              <button
                type="button"
                className="secondary"
                disabled={changed.length === 0}
                onClick={() => {
                  setDrafts({});
                  save.reset();
                }}
              >
                Discard
              </button>
            </>
          ) : null}
        </div>
        {save.error ? <ErrorNote error={save.error} /> : null}
        {result ? <SaveSummary result={result} /> : null}
        <div className="table-scroll">
          <table aria-label="Settings">
            <thead>
              <tr>
                <th scope="col">Setting</th>
                <th scope="col">Value</th>
                <th scope="col">Source</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((field) => (
                <SettingRow
                  key={field.path}
                  field={field}
                  editable={editable}
                  draft={drafts[field.path]}
                  error={errors[field.path]}
                  onDraft={(value) => setDrafts((d) => ({ ...d, [field.path]: value }))}
                />
              ))}
            </tbody>
          </table>
        </div>
      </form>
    </section>
  );
}

function SaveSummary({ result }: { result: PatchResult }) {
  return (
    <div className="save-summary" role="status">
      <p>
        Saved:{' '}
        {result.applied.length === 0
          ? 'nothing changed.'
          : result.applied.map((c) => `${c.key} ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`).join(', ')}
      </p>
      {result.restart_required.length > 0 ? <p className="warn">Restart required for: {result.restart_required.join(', ')}</p> : null}
      {result.overridden.map((o) => (
        <p key={o.key} className="warn">
          {o.key} is saved, but {o.variable} ({o.source}) still sets it to {JSON.stringify(o.effective)}.
        </p>
      ))}
    </div>
  );
}
