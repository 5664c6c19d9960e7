// Streams POST /api/v1/generate or /chat with stream:true: server-sent `token` events, then `done` with timings, or `error`.
import { fetchEventSource } from '@microsoft/fetch-event-source';
import type { ChatRequest, GenerateRequest, GenerateResponse } from '../../../../src/schemas/runtime.ts';
import type { Static } from 'typebox';
import { ApiError, authHeaders } from '../../api/client.ts';
import type { ErrorResponse } from '../../../../src/schemas/common.ts';

export type GenerationDone = Static<typeof GenerateResponse>;

export type StreamRequest = { kind: 'generate'; body: GenerateRequest } | { kind: 'chat'; body: ChatRequest };

/** Stops fetch-event-source from retrying: a generation is not a feed to reconnect to. */
class StreamStop extends Error {}

export async function streamGeneration(
  request: StreamRequest,
  onToken: (text: string) => void,
  signal: AbortSignal,
): Promise<GenerationDone | null> {
  let done: GenerationDone | null = null;
  await fetchEventSource(`/api/v1/${request.kind}`, {
    method: 'POST',
    headers: { ...authHeaders(), 'content-type': 'application/json' },
    body: JSON.stringify({ ...request.body, stream: true }),
    signal,
    openWhenHidden: true,
    onopen: async (response) => {
      if (response.ok && response.headers.get('content-type')?.startsWith('text/event-stream')) return;
      // A refusal before streaming starts is a plain JSON error (404 unknown model, 409 not loaded, 422 …).
      const parsed = (await response.json().catch(() => undefined)) as ErrorResponse | undefined;
      const e = parsed?.error;
      throw new ApiError(response.status, e?.code ?? 'http_error', e?.message ?? `HTTP ${response.status}`, e?.details);
    },
    onmessage: (message) => {
      if (message.event === 'token') onToken((JSON.parse(message.data) as { text: string }).text);
      else if (message.event === 'done') done = JSON.parse(message.data) as GenerationDone;
      else if (message.event === 'error') {
        const e = (JSON.parse(message.data) as { error: { code: string; message: string } }).error;
        throw new ApiError(500, e.code, e.message);
      }
    },
    onclose: () => {
      throw new StreamStop();
    },
    onerror: (error) => {
      throw error;
    },
  }).catch((error: unknown) => {
    if (!(error instanceof StreamStop)) throw error;
  });
  return done;
}
