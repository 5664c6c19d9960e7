// Content-addressed artifact store on local disk: sha256 blobs, per-version snapshots (symlinks) and manifests.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { InsufficientStorage, InvalidInput } from '../errors.ts';

export interface StoredBlob {
  sha256: string;
  sizeBytes: number;
}

export interface SnapshotFile {
  /** Path inside the version, `/`-separated, e.g. `onnx/model.onnx`. */
  path: string;
  sha256: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Head-room kept free beyond the bytes an import needs, so the database and logs can still write. */
const FREE_SPACE_MARGIN_BYTES = 64 * 1024 * 1024;

/** Rejects absolute paths, `..` and empty segments so a manifest can never point outside its snapshot. */
export function assertSafeRelativePath(relative: string): void {
  const parts = relative.split('/');
  if (relative.length === 0 || path.isAbsolute(relative) || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new InvalidInput(`Unsafe artifact path "${relative}"`, { path: relative }, 'invalid_artifact_path');
  }
}

/** A segment of a file name a client chooses: ASCII letters, digits, `._-`, not starting with a dot, not ending with a dot. */
const CLIENT_FILE_SEGMENT = /^[A-Za-z0-9_-](?:[A-Za-z0-9._-]{0,253}[A-Za-z0-9_-])?$/;
const MAX_CLIENT_FILE_PATH = 1024;

/**
 * For file names a client picks (Ollama create's `files`): a safe relative path whose segments are also plain ASCII, so no
 * NUL, control character, backslash, look-alike (U+2215, U+FF0F) or trailing dot reaches a manifest or a snapshot folder.
 * Hub paths keep the wider assertSafeRelativePath: they are the hub's names, checked before they are planned.
 */
export function assertClientFilePath(relative: string): void {
  assertSafeRelativePath(relative);
  if (relative.length > MAX_CLIENT_FILE_PATH || !relative.split('/').every((segment) => CLIENT_FILE_SEGMENT.test(segment))) {
    throw new InvalidInput(
      `Invalid file name "${relative.slice(0, 200)}": "/"-separated segments of letters, digits, ".", "_" or "-", not starting or ending with "."`,
      { path: relative.slice(0, 200) },
      'invalid_artifact_path',
    );
  }
}

export class BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  private get blobsDir(): string {
    return path.join(this.root, 'blobs', 'sha256');
  }

  private get tmpDir(): string {
    return path.join(this.root, 'tmp');
  }

  /** Where work files that become blobs are written (quantizer outputs); cleared at start-up, on the store's file system so a rename adopts them. */
  get tempDir(): string {
    return this.tmpDir;
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.blobsDir, { recursive: true });
    await fsp.mkdir(this.tmpDir, { recursive: true });
    await fsp.mkdir(path.join(this.root, 'snapshots'), { recursive: true });
    await fsp.mkdir(path.join(this.root, 'manifests'), { recursive: true });
    await fsp.mkdir(this.downloadsDir, { recursive: true });
    // Leftovers of an interrupted copy are never referenced: clear them.
    for (const name of await fsp.readdir(this.tmpDir)) await fsp.rm(path.join(this.tmpDir, name), { recursive: true, force: true });
  }

  blobPath(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new InvalidInput(`Not a sha256 digest: ${sha256}`);
    return path.join(this.blobsDir, sha256);
  }

  async hasBlob(sha256: string): Promise<boolean> {
    return fs.existsSync(this.blobPath(sha256));
  }

  /** Bytes available to this process on the store's file system. */
  async freeBytes(): Promise<number> {
    const stats = await fsp.statfs(this.root);
    return stats.bavail * stats.bsize;
  }

  /** Throws 507 `insufficient_storage` when `neededBytes` (plus a margin) does not fit. */
  async assertFreeSpace(neededBytes: number): Promise<void> {
    const free = await this.freeBytes();
    if (neededBytes + FREE_SPACE_MARGIN_BYTES > free) {
      throw new InsufficientStorage(`Not enough free disk space: need ${neededBytes} bytes, ${free} available`, {
        needed_bytes: neededBytes,
        free_bytes: free,
      });
    }
  }

  /**
   * Copies a file into the store, hashing while it streams (one pass), and moves it into place
   * only when complete and flushed, so a crash never leaves a partial blob under a digest name.
   */
  async putFile(source: string): Promise<StoredBlob> {
    return this.putStream(fs.createReadStream(source));
  }

  /**
   * Streams bytes (a file, an upload) into the store the same way; with `expectedSha256` bytes that hash to
   * anything else are discarded with 400 `blob_digest_mismatch`, so a blob's name always matches its bytes.
   */
  async putStream(source: Readable, expectedSha256?: string): Promise<StoredBlob> {
    const hash = createHash('sha256');
    let sizeBytes = 0;
    const tmp = path.join(this.tmpDir, `${randomUUID()}.partial`);
    const hasher = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        sizeBytes += chunk.length;
        callback(null, chunk);
      },
    });
    try {
      const out = fs.createWriteStream(tmp, { flags: 'wx' });
      await pipeline(source, hasher, out);
      const handle = await fsp.open(tmp, 'r');
      await handle.sync();
      await handle.close();
      const sha256 = hash.digest('hex');
      if (expectedSha256 !== undefined && sha256 !== expectedSha256) {
        throw new InvalidInput(
          `The bytes hash to sha256:${sha256}, not sha256:${expectedSha256}; nothing was stored`,
          { expected: `sha256:${expectedSha256}`, actual: `sha256:${sha256}` },
          'blob_digest_mismatch',
        );
      }
      const target = this.blobPath(sha256);
      if (fs.existsSync(target)) {
        await fsp.rm(tmp, { force: true });
      } else {
        await fsp.chmod(tmp, 0o444);
        await fsp.rename(tmp, target);
      }
      return { sha256, sizeBytes };
    } catch (error) {
      await fsp.rm(tmp, { force: true });
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
        throw new InsufficientStorage('The disk filled up while copying into the store; nothing was imported');
      }
      throw error;
    }
  }

  /**
   * Moves a file already verified to hash to `sha256` (a finished download) into the store by rename.
   * `replace` swaps out an existing blob of that digest (used when the stored copy is corrupt).
   */
  async adoptFile(file: string, sha256: string, options: { replace?: boolean } = {}): Promise<void> {
    const target = this.blobPath(sha256);
    if (fs.existsSync(target) && !options.replace) {
      await fsp.rm(file, { force: true });
      return;
    }
    await fsp.chmod(file, 0o444);
    await fsp.rename(file, target);
  }

  /** Where unfinished downloads keep their partial files; outside tmp/ so they survive a restart. */
  get downloadsDir(): string {
    return path.join(this.root, 'downloads');
  }

  async removeBlob(sha256: string): Promise<void> {
    await fsp.rm(this.blobPath(sha256), { force: true });
  }

  /**
   * Moves a corrupt blob out of its digest name (into tmp, cleared at start-up) so the next
   * putFile writes verified bytes under that name; returns where it went, or null when absent.
   */
  async quarantineBlob(sha256: string): Promise<string | null> {
    const target = path.join(this.tmpDir, `${sha256}.${randomUUID()}.corrupt`);
    try {
      await fsp.rename(this.blobPath(sha256), target);
      return target;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** Every digest present in the store. */
  async listBlobs(): Promise<string[]> {
    const names = await fsp.readdir(this.blobsDir);
    return names.filter((name) => SHA256_HEX.test(name));
  }

  snapshotDir(modelId: string, version: number): string {
    return path.join(this.root, 'snapshots', modelId, String(version));
  }

  /**
   * Lays out a version as the folder its runtime expects (e.g. Hugging Face layout), each file a
   * relative symlink to its blob. Built in a temp folder and renamed, so it appears whole or not at all.
   */
  async materializeSnapshot(modelId: string, version: number, files: SnapshotFile[]): Promise<string> {
    const target = this.snapshotDir(modelId, version);
    if (fs.existsSync(target)) return target;
    const staging = `${target}.${randomUUID()}.tmp`;
    // A version without files (held by an external server) still gets its (empty) folder.
    await fsp.mkdir(staging, { recursive: true });
    for (const file of files) {
      assertSafeRelativePath(file.path);
      const link = path.join(staging, ...file.path.split('/'));
      await fsp.mkdir(path.dirname(link), { recursive: true });
      await fsp.symlink(path.relative(path.dirname(link).replace(staging, target), this.blobPath(file.sha256)), link);
    }
    await fsp.mkdir(path.dirname(target), { recursive: true });
    try {
      await fsp.rename(staging, target);
    } catch (error) {
      await fsp.rm(staging, { recursive: true, force: true });
      if (!fs.existsSync(target)) throw error;
    }
    return target;
  }

  async removeSnapshots(modelId: string, version?: number): Promise<void> {
    const dir = version === undefined ? path.join(this.root, 'snapshots', modelId) : this.snapshotDir(modelId, version);
    await fsp.rm(dir, { recursive: true, force: true });
  }

  manifestPath(modelId: string, version: number): string {
    return path.join(this.root, 'manifests', modelId, `${version}.json`);
  }

  /** Writes the manifest next to the blobs (atomically) so the store can be understood without the database. */
  async writeManifest(modelId: string, version: number, manifest: unknown): Promise<void> {
    const file = this.manifestPath(modelId, version);
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${randomUUID()}.tmp`;
    await fsp.writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
    await fsp.rename(tmp, file);
  }

  async removeManifests(modelId: string, version?: number): Promise<void> {
    const target = version === undefined ? path.join(this.root, 'manifests', modelId) : this.manifestPath(modelId, version);
    await fsp.rm(target, { recursive: true, force: true });
  }
}
