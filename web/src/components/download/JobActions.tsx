// Pause, resume and cancel for one job (operators only: the caller hides it otherwise); the job query refreshes after each.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { JobInfo } from '../../../../src/schemas/hub.ts';
import { del, post } from '../../api/client.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { jobKey } from './useJob.ts';

type Action = 'pause' | 'resume' | 'cancel';

export function JobActions({ job, labelSuffix = '' }: { job: JobInfo; labelSuffix?: string }) {
  const client = useQueryClient();
  const action = useMutation({
    mutationFn: (what: Action) =>
      what === 'cancel'
        ? del<JobInfo>(`/api/v1/jobs/${encodeURIComponent(job.id)}`)
        : post<JobInfo>(`/api/v1/jobs/${encodeURIComponent(job.id)}/${what}`),
    onSuccess: (updated) => {
      client.setQueryData(jobKey(job.id), updated);
      void client.invalidateQueries({ queryKey: ['jobs'] });
    },
  });
  const canPause = job.kind === 'download' && (job.status === 'running' || job.status === 'queued');
  const canCancel = job.status === 'running' || job.status === 'queued' || job.status === 'paused';
  const button = (what: Action, label: string, className?: string) => (
    <button
      type="button"
      className={className}
      disabled={action.isPending}
      aria-label={labelSuffix ? `${label} ${labelSuffix}` : undefined}
      onClick={() => action.mutate(what)}
    >
      {label}
    </button>
  );
  if (!canPause && !canCancel && job.status !== 'paused') return null;
  return (
    <span className="job-actions">
      {canPause ? button('pause', 'Pause', 'secondary') : null}
      {job.status === 'paused' ? button('resume', 'Resume') : null}
      {canCancel ? button('cancel', 'Cancel', 'danger') : null}
      <ErrorNote error={action.error} />
    </span>
  );
}
