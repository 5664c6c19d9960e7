// Minimal JSON client the CLI uses to talk to a Hangar server (HANGAR_URL).

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export class HangarClient {
  readonly baseUrl: string;

  /** `apiKey` (HANGAR_API_KEY) is sent as a Bearer token when the server has auth on. */
  constructor(
    baseUrl: string,
    private readonly apiKey?: string,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  protected async send(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach Hangar at ${this.baseUrl} (${cause?.code ?? cause?.message ?? (error as Error).message}); is the server running? Set HANGAR_URL to point elsewhere.`,
      );
    }
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body);
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new CliError(
        error ? `${error.message} (${error.code}, HTTP ${response.status})` : `HTTP ${response.status}: ${text.slice(0, 200)}`,
      );
    }
    return parsed as T;
  }
}

export interface StreamEvent {
  event: string;
  data: Record<string, unknown>;
}

export class HangarStreamClient extends HangarClient {
  /** POSTs (or GETs, without a body) and reads a server-sent-event answer, calling `onEvent` per event; a JSON error answer throws. */
  async stream(path: string, body: unknown, onEvent: (event: StreamEvent) => void, method: 'POST' | 'GET' = 'POST'): Promise<void> {
    const response = await this.send(method, path, method === 'GET' ? undefined : body);
    if (!response.ok || !response.body) {
      const parsed = (await response.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
      throw new CliError(
        parsed?.error ? `${parsed.error.message} (${parsed.error.code}, HTTP ${response.status})` : `HTTP ${response.status}`,
      );
    }
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (data) onEvent({ event, data: JSON.parse(data) as Record<string, unknown> });
      }
    }
  }
}

/** Encodes a model name for a URL path; `/` stays readable because the server accepts it unencoded. */
export function modelPath(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}
