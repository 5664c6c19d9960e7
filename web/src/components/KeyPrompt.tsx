// Asks for an API key when the server requires one; the key is kept in session storage and sent on every call.
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { get, storeApiKey } from '../api/client.ts';
import type { Session } from '../api/session.ts';

export function KeyPrompt() {
  const client = useQueryClient();
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    storeApiKey(key.trim());
    const session = await get<Session>('/api/v1/auth/whoami').catch(() => null);
    if (!session?.role) {
      storeApiKey(null);
      setError('That key is not valid (unknown, expired or revoked).');
      return;
    }
    setError(null);
    await client.invalidateQueries();
  };
  return (
    <form className="card key-prompt" onSubmit={submit}>
      <h1>API key needed</h1>
      <p>This Hangar requires an API key. It is kept for this browser tab only.</p>
      <label>
        API key
        <input type="password" autoComplete="off" value={key} onChange={(e) => setKey(e.target.value)} required />
      </label>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      <button type="submit">Use key</button>
    </form>
  );
}
