// Reads a server-sent-event response into a list of events, optionally reacting to each as it arrives.
export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

export async function readSse(response: Response, onEvent?: (event: SseEvent) => void): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  if (!response.body) return events;
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!data) continue;
      const parsed = { event, data: JSON.parse(data) as Record<string, unknown> };
      events.push(parsed);
      onEvent?.(parsed);
    }
  }
  return events;
}
