// The Download page (seed 004's ModelDownloadForm): find a hub repo, preview it, pick a variant by its memory fit, follow the job.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import type { DownloadAccepted, HubModelInfo } from '../../../src/schemas/hub.ts';
import { get, post } from '../api/client.ts';
import { useCan } from '../api/session.ts';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { JobProgress } from '../components/download/JobProgress.tsx';
import { JobsList } from '../components/download/JobsList.tsx';
import { RepoSearch } from '../components/download/RepoSearch.tsx';
import { RepoInfoPreview } from '../components/download/RepoInfoPreview.tsx';
import { QuantizeChoice } from '../components/download/QuantizeChoice.tsx';
import { VariantPicker } from '../components/download/VariantPicker.tsx';
import { jobKey } from '../components/download/useJob.ts';

export function DownloadPage() {
  // The repo, variant and job live in the URL: a reload (or a shared link) shows the same form and the same job.
  const [params, setParams] = useSearchParams();
  const repoId = params.get('repo');
  const jobId = params.get('job');
  const update = (changes: Record<string, string | null>) =>
    setParams((current) => {
      const next = new URLSearchParams(current);
      for (const [key, value] of Object.entries(changes))
        if (value === null) next.delete(key);
        else next.set(key, value);
      return next;
    });

  return (
    <div className="download-page">
      <h1>Download a model</h1>
      <RepoSearch initial={repoId ?? ''} onChoose={(repo) => update({ repo, variant: null })} />
      {repoId ? (
        <RepoSection
          key={repoId}
          repoId={repoId}
          variant={params.get('variant')}
          onVariant={(variant) => update({ variant })}
          onStarted={(id) => update({ job: id })}
        />
      ) : null}
      {jobId ? <JobProgress key={jobId} jobId={jobId} /> : null}
      <JobsList />
    </div>
  );
}

function RepoSection({
  repoId,
  variant,
  onVariant,
  onStarted,
}: {
  repoId: string;
  variant: string | null;
  onVariant: (variant: string) => void;
  onStarted: (jobId: string) => void;
}) {
  const canOperate = useCan('operator');
  const client = useQueryClient();
  const [contextText, setContextText] = useState('');
  const [name, setName] = useState('');
  const [quantize, setQuantize] = useState('');
  // The radio follows local state at once; the URL (updated in a router transition, a moment later) keeps it for reloads.
  const [picked, setPicked] = useState(variant);
  const info = useQuery({
    queryKey: ['hub-info', repoId],
    queryFn: () => get<HubModelInfo>(`/api/v1/models/info/${repoId}`),
    refetchInterval: false,
    staleTime: 60_000,
  });
  const start = useMutation({
    mutationFn: (body: { repo_id: string; variant?: string; name?: string; quantize?: string }) =>
      post<DownloadAccepted>('/api/v1/models/download', body),
    onSuccess: (accepted) => {
      client.setQueryData(jobKey(accepted.job_id), accepted.job);
      void client.invalidateQueries({ queryKey: ['jobs'] });
      onStarted(accepted.job_id);
    },
  });

  if (info.isPending) return <p className="muted">Reading {repoId} from the hub…</p>;
  if (info.error) return <ErrorNote error={info.error} />;
  const data = info.data;
  const chosen = picked ?? data.variants.find((v) => v.default)?.id ?? data.variants[0]?.id ?? null;
  const contextSize = /^\d+$/.test(contextText) && Number(contextText) > 0 ? Number(contextText) : null;

  return (
    <>
      <RepoInfoPreview info={data} />
      <section className="card" aria-label="Variants">
        <h2>Variants</h2>
        {data.variants.length === 0 ? (
          <p className="muted">Hangar cannot download a variant of this repo (no GGUF or ONNX weights).</p>
        ) : (
          <form
            onSubmit={(event) => {
              event.preventDefault();
              if (!chosen) return;
              start.mutate({
                repo_id: repoId,
                variant: chosen,
                ...(name.trim() ? { name: name.trim() } : {}),
                ...(quantize ? { quantize } : {}),
              });
            }}
          >
            <div className="toolbar">
              <label>
                Context size (tokens)
                <input
                  inputMode="numeric"
                  placeholder={data.context_length ? `default; trained ${data.context_length}` : 'default'}
                  value={contextText}
                  onChange={(event) => setContextText(event.target.value)}
                />
              </label>
            </div>
            <VariantPicker
              repoId={repoId}
              variants={data.variants}
              chosen={chosen}
              contextSize={contextSize}
              onChoose={(id) => {
                setPicked(id);
                setQuantize('');
                onVariant(id);
              }}
            />
            {chosen && canOperate ? (
              <div className="toolbar">
                <QuantizeChoice repoId={repoId} variant={chosen} contextSize={contextSize} value={quantize} onChange={setQuantize} />
              </div>
            ) : null}
            {canOperate ? (
              <div className="toolbar">
                <label>
                  Model name (optional)
                  <input placeholder={repoId} value={name} onChange={(event) => setName(event.target.value)} />
                </label>
                <button type="submit" disabled={!chosen || start.isPending}>
                  {start.isPending ? 'Starting…' : `Download ${chosen ?? ''}${quantize ? ` as ${quantize}` : ''}`}
                </button>
              </div>
            ) : null}
            <ErrorNote error={start.error} />
          </form>
        )}
      </section>
    </>
  );
}
