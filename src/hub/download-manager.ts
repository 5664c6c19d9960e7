// One download per file digest however many jobs want it: jobs attach, share progress, and the last one to leave stops it.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { downloadFile, removePartial, type DownloadTarget, type DownloadTuning } from './file-download.ts';

export interface FileListener {
  /** Bytes on disk changed by `delta` (a newly attached listener first gets the bytes already there). */
  onProgress(delta: number, resumed?: boolean): void;
  onRetry?(info: { path: string; attempt: number; delayMs: number; reason: string }): void;
}

export interface VerifiedFile {
  /** A file whose bytes hash to `sha256`, waiting to be adopted into the store. */
  file: string;
  sha256: string;
  size_bytes: number;
  bytes_fetched: number;
  rejected_attempts: number;
}

interface Inflight {
  promise: Promise<VerifiedFile>;
  listeners: Set<FileListener>;
  controller: AbortController;
  bytesOnDisk: number;
  /** Set when every attached job cancelled: the partial file goes too. */
  discard: boolean;
}

export interface DownloadManagerOptions {
  dir: string;
  tuning: () => DownloadTuning;
  headers: () => Record<string, string>;
}

/** Why a download stopped, as the abort reason: cancel deletes partial bytes, pause and shutdown keep them. */
export class DownloadStopped extends Error {
  readonly reason: 'cancel' | 'pause' | 'shutdown';

  constructor(reason: 'cancel' | 'pause' | 'shutdown') {
    super(`download ${reason === 'cancel' ? 'cancelled' : reason === 'pause' ? 'paused' : 'stopped for shutdown'}`);
    this.reason = reason;
  }
}

/** The key files are shared under: the LFS sha256, else the git blob id. */
export function downloadKey(target: Pick<DownloadTarget, 'sha256' | 'git_oid' | 'path'>): string {
  if (target.sha256) return target.sha256;
  if (target.git_oid) return `git-${target.git_oid}`;
  return `path-${Buffer.from(target.path).toString('hex').slice(0, 64)}`;
}

export class DownloadManager {
  private readonly options: DownloadManagerOptions;
  private readonly inflight = new Map<string, Inflight>();

  constructor(options: DownloadManagerOptions) {
    this.options = options;
  }

  partialPath(key: string): string {
    return path.join(this.options.dir, `${key}.partial`);
  }

  verifiedPath(key: string): string {
    return path.join(this.options.dir, `${key}.verified`);
  }

  /** Bytes a download of this file would still need (its partial progress counted). */
  async remainingBytes(target: DownloadTarget): Promise<number> {
    const key = downloadKey(target);
    if (fs.existsSync(this.verifiedPath(key))) return 0;
    try {
      const state = JSON.parse(await fsp.readFile(`${this.partialPath(key)}.json`, 'utf8')) as { parts?: Array<{ done: number }> };
      const done = (state.parts ?? []).reduce((sum, p) => sum + (Number(p.done) || 0), 0);
      return Math.max(0, target.size_bytes - done);
    } catch {
      return target.size_bytes;
    }
  }

  /**
   * Fetches `target` (or joins the download already fetching it) and resolves with the verified file.
   * Aborting `signal` detaches this caller; the download stops only when no caller is left.
   */
  fetch(target: DownloadTarget, listener: FileListener, signal: AbortSignal): Promise<VerifiedFile> {
    const key = downloadKey(target);
    let entry = this.inflight.get(key);
    if (!entry) {
      entry = this.start(key, target);
      this.inflight.set(key, entry);
    } else if (entry.bytesOnDisk > 0) {
      listener.onProgress(entry.bytesOnDisk, true);
    }
    const current = entry;
    current.listeners.add(listener);
    return new Promise<VerifiedFile>((resolve, reject) => {
      const onAbort = () => {
        current.listeners.delete(listener);
        const reason = signal.reason instanceof DownloadStopped ? signal.reason : new DownloadStopped('pause');
        if (current.listeners.size > 0) return reject(reason);
        // The last caller left: stop the download and answer once its files are settled (kept or deleted).
        current.discard = reason.reason === 'cancel';
        current.controller.abort(reason);
        current.promise.then(
          () => reject(reason),
          () => reject(reason),
        );
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      current.promise.then(
        (result) => {
          signal.removeEventListener('abort', onAbort);
          current.listeners.delete(listener);
          resolve(result);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          current.listeners.delete(listener);
          reject(error);
        },
      );
    });
  }

  private start(key: string, target: DownloadTarget): Inflight {
    const controller = new AbortController();
    const entry: Inflight = {
      promise: Promise.resolve() as unknown as Promise<VerifiedFile>,
      listeners: new Set(),
      controller,
      bytesOnDisk: 0,
      discard: false,
    };
    const verified = this.verifiedPath(key);
    const partial = this.partialPath(key);
    entry.promise = (async () => {
      await fsp.mkdir(this.options.dir, { recursive: true });
      if (fs.existsSync(verified) && (await fsp.stat(verified)).size === target.size_bytes) {
        entry.bytesOnDisk = target.size_bytes;
        for (const l of entry.listeners) l.onProgress(target.size_bytes, true);
        return {
          file: verified,
          size_bytes: target.size_bytes,
          bytes_fetched: 0,
          rejected_attempts: 0,
          ...(await this.knownSha(verified, target)),
        };
      }
      try {
        const result = await downloadFile({
          target,
          partialPath: partial,
          headers: this.options.headers(),
          tuning: this.options.tuning(),
          signal: controller.signal,
          onProgress: (delta, resumed) => {
            entry.bytesOnDisk += delta;
            for (const l of entry.listeners) l.onProgress(delta, resumed);
          },
          onRetry: (info) => {
            for (const l of entry.listeners) l.onRetry?.(info);
          },
        });
        await fsp.rename(partial, verified);
        // The sha256 of a plain git file is known only now: remember it next to the file for a resumed job.
        await fsp.writeFile(`${verified}.sha256`, result.sha256);
        await fsp.rm(`${partial}.json`, { force: true });
        return { file: verified, ...result };
      } catch (error) {
        if (entry.discard) await removePartial(partial);
        throw error;
      }
    })().finally(() => {
      this.inflight.delete(key);
    });
    // Callers handle the outcome through their own promises.
    entry.promise.catch(() => undefined);
    return entry;
  }

  private async knownSha(verified: string, target: DownloadTarget): Promise<{ sha256: string }> {
    if (target.sha256) return { sha256: target.sha256 };
    return { sha256: (await fsp.readFile(`${verified}.sha256`, 'utf8')).trim() };
  }

  /** Deletes what a cancelled job left for this file, unless another job is fetching it now. */
  async discard(target: DownloadTarget): Promise<void> {
    const key = downloadKey(target);
    if (this.inflight.has(key)) return;
    await removePartial(this.partialPath(key));
    await fsp.rm(this.verifiedPath(key), { force: true });
    await fsp.rm(`${this.verifiedPath(key)}.sha256`, { force: true });
  }

  /** Stops every download (server shutdown); partial files stay for the next start. */
  stopAll(): void {
    for (const entry of this.inflight.values()) entry.controller.abort(new DownloadStopped('shutdown'));
  }
}
