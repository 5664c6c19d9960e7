// An API error as the page shows it: the message, and Hangar's code for looking it up in the README.
import { ApiError } from '../api/client.ts';

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError ? error.code : null;
  return (
    <p role="alert" className="error">
      {message}
      {code ? <span className="muted"> ({code})</span> : null}
    </p>
  );
}
