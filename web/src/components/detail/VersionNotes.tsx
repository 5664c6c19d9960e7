// A version's description and tags (the only mutable fields), editable in place by operators.
import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import type { VersionInfo } from '../../../../src/schemas/models.ts';
import type { UpdateVersionRequest } from '../../../../src/schemas/registry.ts';
import { patch } from '../../api/client.ts';
import { useCan } from '../../api/session.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { modelUrl, useRefreshModel } from './queries.ts';

const parseTags = (text: string) => [
  ...new Set(
    text
      .split(',')
      .map((tag) => tag.trim())
      .filter(Boolean),
  ),
];

export function VersionNotes({ version }: { version: VersionInfo }) {
  const canEdit = useCan('operator');
  const refresh = useRefreshModel(version.model);
  const [editing, setEditing] = useState(false);
  const [description, setDescription] = useState('');
  const [tags, setTags] = useState('');
  const save = useMutation({
    mutationFn: (body: UpdateVersionRequest) => patch<VersionInfo>(modelUrl(version.model, `/versions/${version.version}`), body),
    onSuccess: async () => {
      await refresh();
      setEditing(false);
    },
  });
  const start = () => {
    setDescription(version.description ?? '');
    setTags(version.tags.join(', '));
    save.reset();
    setEditing(true);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({ description: description.trim() || null, tags: parseTags(tags) });
  };

  if (editing) {
    return (
      <form className="stack" onSubmit={submit}>
        <label>
          Description of v{version.version}
          <textarea value={description} onChange={(e) => setDescription(e.target.value)} maxLength={4096} rows={2} />
        </label>
        <label>
          Tags of v{version.version} (comma-separated)
          <input value={tags} onChange={(e) => setTags(e.target.value)} />
        </label>
        <div className="toolbar">
          <button type="submit" disabled={save.isPending}>
            Save
          </button>
          <button type="button" className="secondary" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </div>
        <ErrorNote error={save.error} />
      </form>
    );
  }
  return (
    <>
      {version.description ?? <span className="muted">—</span>}
      <div>
        {version.tags.map((tag) => (
          <span key={tag} className="badge">
            #{tag}
          </span>
        ))}
        {canEdit ? (
          <button type="button" className="secondary small" aria-label={`Edit description and tags of v${version.version}`} onClick={start}>
            Edit
          </button>
        ) : null}
      </div>
    </>
  );
}
