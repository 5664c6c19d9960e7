// Writes downloaded parts into the partial file and hashes the file in order as bytes arrive (no pass after the download).
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

export interface Digests {
  sha256: string;
  /** Git blob id, computed only for plain git files. */
  gitOid: string | null;
}

interface Part {
  start: number;
  end: number;
  done: number;
}

const READ_BYTES = 4 * 1024 * 1024;

/**
 * Keeps a hash frontier: bytes arriving exactly at the frontier are hashed from memory; bytes of later parts
 * are written first and hashed when the frontier reaches them (read back from the page cache). A resumed
 * download re-reads what was already on disk once, at start.
 */
export class PartHasher {
  private readonly handle: FileHandle;
  private readonly parts: Part[];
  private readonly size: number;
  private readonly sha256: Hash = createHash('sha256');
  private readonly sha1: Hash | null;
  private frontier = 0;
  private catching: Promise<void> | null = null;
  private again = false;
  private failure: Error | null = null;
  private stopped = false;
  /** One read-back buffer for the whole download: a new one per read was garbage the collector had to chase. */
  private readBuffer: Buffer | null = null;

  constructor(handle: FileHandle, parts: Part[], size: number, gitBlob: boolean) {
    this.handle = handle;
    this.parts = [...parts].sort((a, b) => a.start - b.start);
    this.size = size;
    this.sha1 = gitBlob ? createHash('sha1').update(`blob ${size}\0`) : null;
  }

  /** Hashes whatever a resumed download already has on disk. */
  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
  }

  /** Writes `chunks` at `position` in one vectored write (no copy into one buffer). */
  async write(chunks: Buffer[], position: number): Promise<void> {
    let rest = chunks;
    let at = position;
    while (rest.length > 0) {
      const { bytesWritten } = await this.handle.writev(rest, at);
      at += bytesWritten;
      let skip = bytesWritten;
      const left: Buffer[] = [];
      for (const chunk of rest) {
        if (skip >= chunk.length) skip -= chunk.length;
        else {
          left.push(skip > 0 ? chunk.subarray(skip) : chunk);
          skip = 0;
        }
      }
      rest = left;
    }
  }

  /**
   * Hashes `chunks` right away when they start exactly at the frontier (the usual, sequential case), so
   * hashing overlaps the write; returns false when they must wait for earlier bytes.
   */
  hashInline(at: number, chunks: Buffer[]): boolean {
    if (this.catching !== null || at !== this.frontier) return false;
    for (const chunk of chunks) this.update(chunk);
    return true;
  }

  /** Called after bytes that were not hashed inline are on disk and their part's `done` counts them. */
  wrote(): void {
    this.schedule();
  }

  /** Resolves with the digests once every byte of the file has been hashed. */
  async finish(): Promise<Digests> {
    this.schedule();
    while (this.catching) await this.catching;
    if (this.failure) throw this.failure;
    if (this.frontier !== this.size) throw new Error(`hashed ${this.frontier} of ${this.size} bytes`);
    return { sha256: this.sha256.digest('hex'), gitOid: this.sha1 ? this.sha1.digest('hex') : null };
  }

  private update(data: Buffer): void {
    this.sha256.update(data);
    this.sha1?.update(data);
    this.frontier += data.length;
  }

  /** End of the bytes on disk that run contiguously from the frontier. */
  private contiguousEnd(): number {
    let end = this.frontier;
    for (const part of this.parts) {
      if (part.end <= end) continue;
      if (part.start > end) break;
      const written = part.start + part.done;
      if (written <= end) break;
      end = written;
      if (written < part.end) break;
    }
    return end;
  }

  private schedule(): void {
    if (this.catching) {
      this.again = true;
      return;
    }
    this.catching = this.catchUp().finally(() => {
      this.catching = null;
    });
  }

  private async catchUp(): Promise<void> {
    try {
      do {
        this.again = false;
        let end = this.contiguousEnd();
        while (!this.stopped && this.frontier < end) {
          const length = Math.min(READ_BYTES, end - this.frontier);
          // Hashing consumes the bytes before the next read, so one buffer serves every read.
          this.readBuffer ??= Buffer.allocUnsafeSlow(READ_BYTES);
          const buffer = this.readBuffer;
          const { bytesRead } = await this.handle.read(buffer, 0, length, this.frontier);
          if (bytesRead <= 0) throw new Error('partial file shorter than its recorded progress');
          this.update(buffer.subarray(0, bytesRead));
          end = this.contiguousEnd();
        }
      } while (this.again && !this.stopped);
    } catch (error) {
      this.failure ??= error as Error;
    }
  }
}
