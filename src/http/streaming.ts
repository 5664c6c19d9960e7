// The one streaming writer of every surface: server-sent events or NDJSON over a hijacked reply, with keep-alives and clean close.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export type StreamFormat = 'sse' | 'ndjson';

const CONTENT_TYPES: Record<StreamFormat, string> = {
  sse: 'text/event-stream; charset=utf-8',
  ndjson: 'application/x-ndjson',
};

export interface StreamOptions {
  format: StreamFormat;
  /** SSE comment lines at this interval keep proxies from closing an idle stream (0: none). */
  keepaliveMs?: number;
  /** SSE `retry:` advice to reconnecting clients, sent first. */
  retryMs?: number;
}

export interface StreamMessage {
  /** SSE `event:` name (NDJSON ignores it: the type belongs in the data). */
  event?: string;
  /** SSE `id:`, which clients send back as Last-Event-ID. */
  id?: string;
  data: unknown;
}

export interface OpenStream {
  send(message: StreamMessage): void;
  /** Ends the response; `destroySocket` drops a kept-alive connection (server shutdown). */
  end(destroySocket?: boolean): void;
  readonly ended: boolean;
  /** Called once when the stream ends, by either side. */
  onClose(listener: () => void): void;
}

function frame(format: StreamFormat, message: StreamMessage): string {
  const data = JSON.stringify(message.data);
  if (format === 'ndjson') return `${data}\n`;
  return `${message.event ? `event: ${message.event}\n` : ''}data: ${data}\n${message.id ? `id: ${message.id}\n` : ''}\n`;
}

/** The streams each server has open, so shutdown can end them (they never finish on their own). */
const openStreams = new WeakMap<object, Set<OpenStream>>();

/**
 * Ends every open stream of `app` when it closes, dropping their kept-alive sockets, which would otherwise
 * hold server.close() until their keep-alive timeout. Registered once by the app factory.
 */
export function endStreamsOnClose(app: FastifyInstance): void {
  app.addHook('preClose', async () => {
    for (const stream of [...(openStreams.get(app.server) ?? [])]) stream.end(true);
  });
}

/** Takes the reply over from Fastify and starts a stream of `format` (status 200). */
export function openStream(request: FastifyRequest, reply: FastifyReply, options: StreamOptions): OpenStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': CONTENT_TYPES[options.format],
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    // nginx buffers responses unless told not to, which would hold events back.
    'x-accel-buffering': 'no',
    'x-request-id': String(request.id),
  });
  if (options.format === 'sse' && options.retryMs) raw.write(`retry: ${options.retryMs}\n\n`);
  const listeners: Array<() => void> = [];
  let ended = false;
  const keepalive =
    options.format === 'sse' && options.keepaliveMs ? setInterval(() => raw.write(': keepalive\n\n'), options.keepaliveMs) : null;
  keepalive?.unref();
  const finish = (destroySocket: boolean) => {
    if (ended) return;
    ended = true;
    if (keepalive) clearInterval(keepalive);
    for (const listener of listeners.splice(0)) listener();
    if (!raw.writableEnded) raw.end(() => (destroySocket ? raw.socket?.destroy() : undefined));
  };
  // The response's close fires when the client goes away (the request's may fire as soon as it is read).
  raw.on('close', () => finish(false));
  raw.on('error', () => finish(false));
  const stream: OpenStream = {
    send: (message) => {
      // Streams bypass Fastify's serialization hooks: the caller's tenant prefix is removed here instead.
      if (!ended) raw.write(frame(options.format, { ...message, data: request.scope.displayValue(message.data) }));
    },
    end: (destroySocket = false) => finish(destroySocket),
    get ended() {
      return ended;
    },
    onClose: (listener) => {
      if (ended) listener();
      else listeners.push(listener);
    },
  };
  const tracked = openStreams.get(request.server.server) ?? new Set<OpenStream>();
  openStreams.set(request.server.server, tracked);
  tracked.add(stream);
  listeners.push(() => tracked.delete(stream));
  return stream;
}

/**
 * A stream that opens with its first message, so a failure before it (unknown model, load error)
 * still answers with a JSON error status. `signal` aborts when the client goes away before the end.
 */
export interface DeferredStream {
  send(message: StreamMessage): void;
  readonly opened: boolean;
  readonly signal: AbortSignal;
  end(): void;
}

export function deferredStream(request: FastifyRequest, reply: FastifyReply, options: StreamOptions): DeferredStream {
  const abort = new AbortController();
  let stream: OpenStream | null = null;
  let finished = false;
  // The response's close: the request's has usually fired already (once its body was read), so it would never tell.
  reply.raw.on('close', () => {
    if (!finished) abort.abort();
  });
  return {
    send: (message) => {
      stream ??= openStream(request, reply, options);
      stream.send(message);
    },
    get opened() {
      return stream !== null;
    },
    signal: abort.signal,
    end: () => {
      finished = true;
      stream?.end();
    },
  };
}
