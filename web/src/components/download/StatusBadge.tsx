// A job status as a badge, coloured with the dashboard's status classes (done green, in progress amber, failed red).
const CLASS_OF: Record<string, string> = {
  completed: 'loaded',
  running: 'loading',
  queued: 'loading',
  paused: 'unloading',
  failed: 'failed',
  cancelled: 'failed',
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge ${CLASS_OF[status] ?? ''}`}>{status}</span>;
}
