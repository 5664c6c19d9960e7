// An API error as the page shows it: the message, and Hangar's code for looking it up in the README; a 403 as a calm note.
import { ApiError, isForbidden, isSystemOnly } from '../api/client.ts';

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  // Any panel may be system-only or above the key's role; saying so is information, not an alarm.
  if (isForbidden(error))
    return (
      <p className="muted not-allowed" data-testid="not-allowed">
        {isSystemOnly(error) ? 'System-wide view: shown to system keys only.' : `Not available to this key: ${error.message}`}
      </p>
    );
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError ? error.code : null;
  return (
    <p role="alert" className="error">
      {message}
      {code ? <span className="muted"> ({code})</span> : null}
    </p>
  );
}
