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

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach Hangar at ${this.baseUrl} (${cause?.code ?? cause?.message ?? (error as Error).message}); is the server running? Set HANGAR_URL to point elsewhere.`);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new CliError(error ? `${error.message} (${error.code}, HTTP ${response.status})` : `HTTP ${response.status}: ${text.slice(0, 200)}`);
    }
    return parsed as T;
  }
}

/** Encodes a model name for a URL path; `/` stays readable because the server accepts it unencoded. */
export function modelPath(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}
