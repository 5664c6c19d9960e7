// Downloads one hub file into a pre-sized partial file: byte-range parts in parallel, resume, stall detection, retries, streaming hash.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { HangarError } from '../errors.ts';
import { PartHasher, type Digests } from './part-hasher.ts';
import { rangeRequest } from './range-request.ts';

export interface DownloadTarget {
  url: string;
  /** Path in the repo (for messages). */
  path: string;
  size_bytes: number;
  /** Expected sha256 (LFS oid); null for plain git files, which check `git_oid` instead. */
  sha256: string | null;
  git_oid: string | null;
}

export interface DownloadTuning {
  parallelParts: number;
  partSizeBytes: number;
  stallTimeoutMs: number;
  maxRetries: number;
  retryBaseMs: number;
}

export interface DownloadResult {
  sha256: string;
  size_bytes: number;
  /** Bytes received over the network for this file in this call (resumed bytes are not counted). */
  bytes_fetched: number;
  /** Whole-file re-fetches after a checksum mismatch. */
  rejected_attempts: number;
}

export interface DownloadFileOptions {
  target: DownloadTarget;
  /** The partial file; its state lives next to it in `<partial>.json`. */
  partialPath: string;
  headers: Record<string, string>;
  tuning: DownloadTuning;
  signal: AbortSignal;
  /** Called with each change of bytes on disk (negative when a part restarts or a bad file is dropped). */
  onProgress?: (deltaBytes: number, resumed?: boolean) => void;
  /** Called before each retry, for logs and job state. */
  onRetry?: (info: { path: string; attempt: number; delayMs: number; reason: string }) => void;
}

interface PartState {
  start: number;
  /** Exclusive end. */
  end: number;
  /** Bytes of this part on disk, from `start`. */
  done: number;
}

interface PartialState {
  size_bytes: number;
  sha256: string | null;
  git_oid: string | null;
  parts: PartState[];
}

const MAX_BACKOFF_MS = 30_000;
const WRITE_CHUNK_BYTES = 1024 * 1024;
const STATE_SAVE_INTERVAL_MS = 500;

/** An answer that retrying will not change (404, 401, file changed size…). */
class PermanentError extends HangarError {}

function planParts(size: number, tuning: DownloadTuning): PartState[] {
  if (size < 2 * tuning.partSizeBytes || tuning.parallelParts <= 1) return [{ start: 0, end: size, done: 0 }];
  const count = Math.ceil(size / tuning.partSizeBytes);
  const partSize = Math.ceil(size / count);
  const parts: PartState[] = [];
  for (let start = 0; start < size; start += partSize) parts.push({ start, end: Math.min(size, start + partSize), done: 0 });
  return parts;
}

async function readState(file: string, target: DownloadTarget): Promise<PartialState | null> {
  try {
    const state = JSON.parse(await fsp.readFile(file, 'utf8')) as PartialState;
    const sameFile = state.size_bytes === target.size_bytes && state.sha256 === target.sha256 && state.git_oid === target.git_oid;
    const sane = Array.isArray(state.parts) && state.parts.every((p) => p.done >= 0 && p.done <= p.end - p.start);
    return sameFile && sane ? state : null;
  } catch {
    return null;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function retryAfterMs(value: string): number | null {
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : null;
}

/** Removes a partial download and its state. */
export async function removePartial(partialPath: string): Promise<void> {
  await fsp.rm(partialPath, { force: true });
  await fsp.rm(`${partialPath}.json`, { force: true });
}

/** Downloads `target` into `partialPath`, resuming from its saved state; resolves once every byte is verified. */
export async function downloadFile(options: DownloadFileOptions): Promise<DownloadResult> {
  let rejected = 0;
  let fetched = 0;
  for (;;) {
    const outcome = await attempt(options);
    fetched += outcome.fetched;
    if (outcome.digests.verified)
      return { sha256: outcome.digests.sha256, size_bytes: options.target.size_bytes, bytes_fetched: fetched, rejected_attempts: rejected };
    // Wrong bytes: never kept, never stored; the whole file is fetched again.
    rejected++;
    options.onProgress?.(-options.target.size_bytes, true);
    await removePartial(options.partialPath);
    if (rejected > options.tuning.maxRetries) {
      throw new HangarError(
        'checksum_mismatch',
        `${options.target.path}: the hub sent bytes that do not match its checksum ${rejected} times`,
        {
          path: options.target.path,
          expected_sha256: options.target.sha256,
          received_sha256: outcome.digests.sha256,
        },
      );
    }
    options.onRetry?.({
      path: options.target.path,
      attempt: rejected,
      delayMs: 0,
      reason: `checksum mismatch (got sha256 ${outcome.digests.sha256})`,
    });
  }
}

async function attempt(options: DownloadFileOptions): Promise<{ digests: Digests & { verified: boolean }; fetched: number }> {
  const { target, partialPath, tuning, signal } = options;
  // fetchPart hears only aborts that come after it starts listening ('abort' fires once): a stop that came
  // before (while the caller or this function was still preparing) must be seen here, or the file downloads anyway.
  signal.throwIfAborted();
  const stateFile = `${partialPath}.json`;
  let state = await readState(stateFile, target);
  if (state && !fs.existsSync(partialPath)) state = null;
  if (!state) {
    state = { size_bytes: target.size_bytes, sha256: target.sha256, git_oid: target.git_oid, parts: planParts(target.size_bytes, tuning) };
    await fsp.writeFile(partialPath, '');
  }
  const handle = await fsp.open(partialPath, 'r+');
  await handle.truncate(target.size_bytes);
  const resumedBytes = state.parts.reduce((sum, p) => sum + p.done, 0);
  if (resumedBytes) options.onProgress?.(resumedBytes, true);
  const hasher = new PartHasher(handle, state.parts, target.size_bytes, target.git_oid !== null && target.sha256 === null);
  let fetched = 0;
  let lastSave = 0;
  const saveState = async (force = false) => {
    if (!force && Date.now() - lastSave < STATE_SAVE_INTERVAL_MS) return;
    lastSave = Date.now();
    const tmp = `${stateFile}.tmp`;
    await fsp.writeFile(tmp, JSON.stringify(state));
    await fsp.rename(tmp, stateFile);
  };
  try {
    await saveState(true);
    hasher.start();
    const queue = state.parts.filter((p) => p.done < p.end - p.start);
    const worker = async () => {
      for (let part = queue.shift(); part; part = queue.shift()) {
        signal.throwIfAborted();
        fetched += await fetchPart(options, part, hasher, saveState);
      }
    };
    await Promise.all(Array.from({ length: Math.min(tuning.parallelParts, Math.max(1, queue.length)) }, worker));
    await saveState(true);
    const digests = await hasher.finish();
    const verified =
      target.sha256 !== null ? digests.sha256 === target.sha256 : target.git_oid !== null ? digests.gitOid === target.git_oid : true;
    if (verified) await handle.sync();
    return { digests: { ...digests, verified }, fetched };
  } catch (error) {
    await saveState(true).catch(() => undefined);
    throw error;
  } finally {
    hasher.stop();
    await handle.close();
  }
}

/** Fetches the rest of one part, retrying from where it stopped; returns the bytes received. */
async function fetchPart(
  options: DownloadFileOptions,
  part: PartState,
  hasher: PartHasher,
  saveState: () => Promise<void>,
): Promise<number> {
  const { target, tuning, signal } = options;
  let failures = 0;
  let received = 0;
  while (part.done < part.end - part.start) {
    const from = part.start + part.done;
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    // One timer per request, not one per chunk: it checks when data last came.
    let lastDataAt = Date.now();
    const stallTimer = setInterval(
      () => {
        if (Date.now() - lastDataAt > tuning.stallTimeoutMs) controller.abort(new Error(`no data for ${tuning.stallTimeoutMs} ms`));
      },
      Math.max(25, Math.floor(tuning.stallTimeoutMs / 4)),
    );
    let progressed = false;
    let waitMs: number | null = null;
    let reason = '';
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    // One write in flight while the next megabyte arrives: the socket keeps flowing during disk writes.
    let queuedBytes = 0;
    let inflight: Promise<void> = Promise.resolve();
    const startFlush = () => {
      if (pendingBytes === 0) return;
      const room = part.end - part.start - part.done - queuedBytes;
      let chunks = pending;
      let length = pendingBytes;
      pending = [];
      pendingBytes = 0;
      if (length > room) {
        // A server sending past the asked range: keep only the part's bytes.
        const kept: Buffer[] = [];
        let left = room;
        for (const chunk of chunks) {
          if (left <= 0) break;
          kept.push(chunk.length > left ? chunk.subarray(0, left) : chunk);
          left -= Math.min(left, chunk.length);
        }
        chunks = kept;
        length = room;
      }
      if (length <= 0) return;
      const at = part.start + part.done + queuedBytes;
      queuedBytes += length;
      const hashed = hasher.hashInline(at, chunks);
      const previous = inflight;
      inflight = (async () => {
        await previous;
        await hasher.write(chunks, at);
        queuedBytes -= length;
        part.done += length;
        received += length;
        progressed = true;
        failures = 0;
        options.onProgress?.(length);
        if (!hashed) hasher.wrote();
        await saveState();
      })();
    };
    const flush = async () => {
      startFlush();
      await inflight;
    };
    try {
      const response = await rangeRequest(
        target.url,
        { ...options.headers, range: `bytes=${from}-${part.end - 1}`, 'accept-encoding': 'identity' },
        controller.signal,
      );
      if (response.status === 429 || response.status === 408 || response.status >= 500) {
        const retryAfter = response.header('retry-after');
        waitMs = retryAfter === null ? null : retryAfterMs(retryAfter);
        response.body.resume();
        throw new Error(`the hub answered ${response.status}`);
      }
      if (response.status < 200 || response.status >= 300) {
        response.body.resume();
        throw new PermanentError('hub_download_failed', `${target.path}: the hub answered ${response.status}`, {
          path: target.path,
          hub_status: response.status,
          hub_error_code: response.header('x-error-code'),
        });
      }
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.header('content-range') ?? '');
      if (response.status === 200 && from !== 0) {
        response.body.destroy();
        throw new PermanentError('hub_no_range_support', `${target.path}: the hub ignored the byte range; cannot resume`, {
          path: target.path,
        });
      }
      if (response.status === 206 && (!range || Number(range[1]) !== from)) throw new Error('the hub answered a different byte range');
      if (range && range[3] !== '*' && Number(range[3]) !== target.size_bytes) {
        throw new PermanentError(
          'hub_file_changed',
          `${target.path}: the hub reports ${range[3]} bytes, the listing ${target.size_bytes}`,
          { path: target.path },
        );
      }
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        lastDataAt = Date.now();
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= WRITE_CHUNK_BYTES) {
          await inflight;
          startFlush();
        }
        if (part.done + queuedBytes + pendingBytes >= part.end - part.start) break;
      }
      await flush();
      if (part.done < part.end - part.start) throw new Error('connection closed early');
    } catch (error) {
      // Bytes that arrived before the failure are good bytes at their offsets: keep them, resume after them.
      await flush().catch(() => undefined);
      if (signal.aborted) throw signal.reason;
      if (error instanceof PermanentError) throw error;
      reason = controller.signal.aborted ? String((controller.signal.reason as Error)?.message ?? 'aborted') : (error as Error).message;
      if (!progressed) failures++;
      if (failures > tuning.maxRetries) {
        throw new HangarError('download_failed', `${target.path}: ${failures} attempts in a row failed (${reason})`, {
          path: target.path,
          reason,
        });
      }
      const delay = waitMs ?? (progressed ? 0 : Math.min(MAX_BACKOFF_MS, tuning.retryBaseMs * 2 ** Math.max(0, failures - 1)));
      options.onRetry?.({ path: target.path, attempt: failures, delayMs: delay, reason });
      if (delay > 0) await sleep(Math.min(delay, 60_000), signal);
    } finally {
      clearInterval(stallTimer);
      signal.removeEventListener('abort', onAbort);
      controller.abort();
    }
  }
  return received;
}
