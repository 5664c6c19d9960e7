// How long an idle loaded model stays (a countdown to its keep-alive expiry) and when it last answered.
import type { ModelStatus } from '../../../../src/schemas/runtime.ts';
import { formatDuration, formatRelative } from '../../format.ts';
import { useNow } from './clock.ts';

export function KeepAlive({ status }: { status: ModelStatus | undefined }) {
  if (status?.status !== 'loaded') return <>—</>;
  if (status.expires_at) return <Countdown until={status.expires_at} />;
  // No expiry while loaded: busy (the clock restarts after the last request) or kept forever.
  if (status.in_flight > 0 || status.queue_depth > 0) return <>after the running requests</>;
  return <>stays loaded{status.keep_alive ? ` (${status.keep_alive})` : ''}</>;
}

/** Ticks once a second; only loaded models render one, so a page of 200 idle models runs no timers. */
function Countdown({ until }: { until: string }) {
  const now = useNow(1000);
  const left = Date.parse(until) - now;
  return <time dateTime={until}>{left > 0 ? `unloads in ${formatDuration(left)}` : 'unloads when idle'}</time>;
}

export function LastInference({ at }: { at: string | null | undefined }) {
  if (!at) return <>never</>;
  return <Ago at={at} />;
}

function Ago({ at }: { at: string }) {
  const now = useNow(10_000);
  return (
    <time dateTime={at} title={new Date(at).toLocaleString()}>
      {formatRelative(at, now)}
    </time>
  );
}
