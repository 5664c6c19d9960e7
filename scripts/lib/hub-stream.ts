// Streams one byte range of a hub file to an HTTP response, with injected faults (drop, stall, corrupt) and a rate limit.
import { createReadStream } from 'node:fs';
import type { ServerResponse } from 'node:http';

/** A body fault; `atOffset` is an absolute file offset (default: the first byte sent). */
export interface BodyFault {
  kind: 'drop' | 'stall' | 'corrupt';
  atOffset?: number;
  stallMs?: number;
}

export interface StreamRangeOptions {
  res: ServerResponse;
  /** Aborted when the client goes: every wait ends at once. */
  signal: AbortSignal;
  source: { content?: Buffer; file?: string };
  start: number;
  /** Inclusive. */
  end: number;
  faults: BodyFault[];
  /** Bytes per second now, read before each slice (so a change applies mid-stream); null for no limit. */
  rate: () => number | null;
  onBytes: (n: number) => void;
}

const CHUNK = 1024 * 1024;

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`; multiple or malformed ranges are ignored (null), as RFC 9110 allows. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec((header ?? '').trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Number(m[2]);
  if (m[2] !== '' && end < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}

/** Waits `ms` (Infinity: until aborted). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = Number.isFinite(ms) ? setTimeout(done, Math.max(0, ms)) : undefined;
    signal.addEventListener('abort', done, { once: true });
  });
}

function waitEvent(emitter: NodeJS.EventEmitter, event: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      emitter.off(event, done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    emitter.once(event, done);
    signal.addEventListener('abort', done, { once: true });
  });
}

async function* bufferChunks(buf: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += CHUNK) yield buf.subarray(i, i + CHUNK);
}

/**
 * Writes [start, end] (headers already sent). drop: bytes before atOffset, then the socket is destroyed;
 * stall: bytes before atOffset, then nothing for stallMs or until the client goes; corrupt: that byte xor 0xff.
 */
export async function streamRange(o: StreamRangeOptions): Promise<void> {
  const { res, signal, start, end } = o;
  const stops = o.faults
    .filter((r) => r.kind !== 'corrupt')
    .map((r) => ({ rule: r, at: r.atOffset ?? start }))
    .sort((a, b) => a.at - b.at);
  const flips = o.faults.filter((r) => r.kind === 'corrupt').map((r) => r.atOffset ?? start);
  const src = o.source.content
    ? bufferChunks(o.source.content.subarray(start, end + 1))
    : createReadStream(o.source.file ?? '', { start, end, highWaterMark: CHUNK });
  let pos = start;
  let stopIndex = 0;
  let nextAt = performance.now();
  for await (const raw of src) {
    let chunk = raw as Buffer;
    for (const at of flips) {
      if (at >= pos && at < pos + chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[at - pos] ^= 0xff;
      }
    }
    for (;;) {
      if (signal.aborted) return;
      const stop = stops[stopIndex];
      if (stop && stop.at === pos) {
        stopIndex++;
        if (stop.rule.kind === 'drop') {
          const socket = res.socket;
          while (socket && socket.writableLength > 0 && !signal.aborted) await waitEvent(socket, 'drain', signal);
          socket?.destroy();
          return;
        }
        await sleep(stop.rule.stallMs ?? Infinity, signal);
        continue;
      }
      if (chunk.length === 0) break;
      let n = stop ? Math.min(chunk.length, stop.at - pos) : chunk.length;
      const bps = o.rate();
      if (bps) {
        n = Math.min(n, Math.max(1, Math.floor(bps / 20)));
        await sleep(nextAt - performance.now(), signal);
        if (signal.aborted) return;
      }
      const piece = chunk.subarray(0, n);
      chunk = chunk.subarray(n);
      const flowing = res.write(piece);
      pos += n;
      o.onBytes(n);
      if (bps) nextAt = Math.max(nextAt, performance.now()) + (n / bps) * 1000;
      if (!flowing) await waitEvent(res, 'drain', signal);
    }
  }
  if (!signal.aborted) res.end();
}
