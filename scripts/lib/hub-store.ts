// Repository model of the local test hub: file hashing (git blob sha1, LFS sha256), commits, tree entries and model-info JSON.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { gguf } from '@huggingface/gguf';

/** One file of a repository: bytes in memory, or a file on disk that is streamed (never read whole). */
export interface HubFileSpec {
  path: string;
  content?: Buffer;
  /** Absolute path on disk. */
  file?: string;
}

export interface HubRepoSpec {
  id: string;
  files: HubFileSpec[];
  private?: boolean;
  gated?: boolean;
  license?: string;
  tags?: string[];
  pipelineTag?: string;
  libraryName?: string;
  config?: Record<string, unknown>;
  /** Branch name; default 'main'. */
  revision?: string;
}

export interface LfsInfo {
  oid: string;
  size: number;
  pointerSize: number;
}
export interface LastCommit {
  id: string;
  title: string;
  date: string;
}

/** A file as stored in one commit. */
export interface StoredFile {
  path: string;
  size: number;
  /** Git object id: blob sha1 of the content, or of the LFS pointer file for LFS files (as on the real hub). */
  oid: string;
  /** Git blob sha1 of the content itself. */
  contentOid: string;
  sha256: string;
  lfs?: LfsInfo;
  /** LFS pointer text, served by /raw/ for LFS files. */
  pointer?: Buffer;
  content?: Buffer;
  file?: string;
  lastCommit: LastCommit;
}

export interface Commit {
  sha: string;
  date: Date;
  files: Map<string, StoredFile>;
  /** Directory path ('' is the root) -> git tree sha. */
  trees: Map<string, string>;
}

export interface GgufSummary {
  total: number;
  architecture: string;
  context_length?: number;
  bos_token?: string;
  eos_token?: string;
}

export interface StoredRepo {
  id: string;
  spec: HubRepoSpec;
  branch: string;
  head: string;
  commits: Map<string, Commit>;
  createdAt: Date;
  /** Deterministic 24-hex id, like the hub's Mongo `_id`. */
  objectId: string;
  gguf?: GgufSummary;
}

const LFS_SUFFIXES = ['.onnx', '.onnx_data', '.gguf', '.bin', '.safetensors', '.pt'];
const LFS_MIN_SIZE = 10 * 1024 * 1024;

export const isLfsPath = (path: string, size: number): boolean =>
  size > LFS_MIN_SIZE || LFS_SUFFIXES.some((s) => path.toLowerCase().endsWith(s));

export const sha1Hex = (data: string | Buffer): string => createHash('sha1').update(data).digest('hex');

export function gitBlobSha1(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

export function lfsPointer(sha256: string, size: number): Buffer {
  return Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`);
}

interface Hashes {
  size: number;
  sha256: string;
  gitOid: string;
}
const diskHashCache = new Map<string, Hashes>();

/** Hashes a file on disk in one streamed pass (sha256 and git blob sha1), cached by path, size and mtime. */
export async function hashDiskFile(file: string): Promise<Hashes> {
  const st = await stat(file);
  if (!st.isFile()) throw new Error(`hub: ${file} is not a file`);
  const key = `${file}\0${st.size}\0${st.mtimeMs}`;
  const cached = diskHashCache.get(key);
  if (cached) return cached;
  const sha256 = createHash('sha256');
  const sha1 = createHash('sha1').update(`blob ${st.size}\0`);
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer;
    size += buf.length;
    sha256.update(buf);
    sha1.update(buf);
  }
  if (size !== st.size) throw new Error(`hub: ${file} changed while hashing`);
  const hashes = { size, sha256: sha256.digest('hex'), gitOid: sha1.digest('hex') };
  diskHashCache.set(key, hashes);
  return hashes;
}

/** A hashed file not yet placed in a commit. */
export type PendingFile = Omit<StoredFile, 'lastCommit'>;

export async function hashFileSpec(spec: HubFileSpec): Promise<PendingFile> {
  const path = normalizeRepoPath(spec.path);
  let h: Hashes;
  if (spec.content) {
    h = { size: spec.content.length, sha256: createHash('sha256').update(spec.content).digest('hex'), gitOid: gitBlobSha1(spec.content) };
  } else if (spec.file) {
    h = await hashDiskFile(spec.file);
  } else {
    throw new Error(`hub: file ${path} needs content or file`);
  }
  const base = {
    path,
    size: h.size,
    contentOid: h.gitOid,
    sha256: h.sha256,
    content: spec.content,
    file: spec.content ? undefined : spec.file,
  };
  if (!isLfsPath(path, h.size)) return { ...base, oid: h.gitOid };
  const pointer = lfsPointer(h.sha256, h.size);
  return { ...base, oid: gitBlobSha1(pointer), pointer, lfs: { oid: h.sha256, size: h.size, pointerSize: pointer.length } };
}

export function normalizeRepoPath(path: string): string {
  const clean = path.replace(/\\/g, '/').replace(/^\/+/, '');
  if (!clean || clean.split('/').some((p) => p === '' || p === '.' || p === '..'))
    throw new Error(`hub: invalid file path ${JSON.stringify(path)}`);
  return clean;
}

/** Git tree shas of every directory, computed bottom-up as git would (mode 100644 files, 40000 trees). */
function treeShas(files: Map<string, PendingFile>): Map<string, string> {
  const children = new Map<string, Map<string, { dir: boolean; oid?: string }>>([['', new Map()]]);
  for (const f of files.values()) {
    const parts = f.path.split('/');
    for (let i = 0; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!children.has(dir)) children.set(dir, new Map());
      children.get(dir)?.set(parts[i], i === parts.length - 1 ? { dir: false, oid: f.oid } : { dir: true });
    }
  }
  const out = new Map<string, string>();
  const depth = (d: string): number => (d ? d.split('/').length : 0);
  const dirs = [...children.keys()].sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : 1));
  for (const dir of dirs) {
    const entries = [...(children.get(dir) ?? new Map<string, { dir: boolean; oid?: string }>())];
    entries.sort(([a, ea], [b, eb]) => {
      const ka = ea.dir ? `${a}/` : a;
      const kb = eb.dir ? `${b}/` : b;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    const parts = entries.map(([name, e]) => {
      const oid = e.dir ? (out.get(dir ? `${dir}/${name}` : name) ?? '') : (e.oid ?? '');
      return Buffer.concat([Buffer.from(`${e.dir ? '40000' : '100644'} ${name}\0`), Buffer.from(oid, 'hex')]);
    });
    const body = Buffer.concat(parts);
    out.set(dir, sha1Hex(Buffer.concat([Buffer.from(`tree ${body.length}\0`), body])));
  }
  return out;
}

/** Builds a commit: sha = sha1 of the sorted file list with each file's git oid and sha256. */
export function makeCommit(files: Map<string, PendingFile>, previous: Commit | undefined, title: string, date: Date): Commit {
  const list = [...files.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  const sha = sha1Hex(list.map((f) => `${f.path}\0${f.oid}\0${f.sha256}\n`).join(''));
  const lastCommit = { id: sha, title, date: date.toISOString() };
  const stored = new Map<string, StoredFile>();
  for (const f of list) {
    const before = previous?.files.get(f.path);
    const same = before && before.oid === f.oid && before.sha256 === f.sha256;
    stored.set(f.path, { ...f, lastCommit: same ? before.lastCommit : lastCommit });
  }
  return { sha, date, files: stored, trees: treeShas(files) };
}

/** Reads general.architecture, context length, parameter count and bos/eos tokens from a GGUF header, or undefined. */
export async function summarizeGguf(f: StoredFile): Promise<GgufSummary | undefined> {
  try {
    const content = f.content;
    const fakeFetch = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const m = /bytes=(\d+)-(\d+)?/.exec(new Headers(init?.headers).get('range') ?? '');
      const buf = content ?? Buffer.alloc(0);
      const start = m ? Number(m[1]) : 0;
      const end = m?.[2] ? Math.min(Number(m[2]), buf.length - 1) : buf.length - 1;
      return new Response(buf.subarray(start, end + 1), {
        status: m ? 206 : 200,
        headers: { 'content-range': `bytes ${start}-${end}/${buf.length}` },
      });
    };
    const parsed = content
      ? await gguf('http://hub.invalid/model.gguf', { fetch: fakeFetch as typeof fetch, computeParametersCount: true })
      : await gguf(f.file ?? '', { allowLocalFile: true, computeParametersCount: true });
    const md = parsed.metadata as Record<string, unknown>;
    const arch = String(md['general.architecture'] ?? '');
    if (!arch) return undefined;
    const ctx = md[`${arch}.context_length`];
    const tokens = md['tokenizer.ggml.tokens'];
    const token = (key: string): string | undefined => {
      const id = md[key];
      return Array.isArray(tokens) && typeof id === 'number' && typeof tokens[id] === 'string' ? (tokens[id] as string) : undefined;
    };
    return {
      total: parsed.parameterCount,
      architecture: arch,
      ...(typeof ctx === 'number' ? { context_length: ctx } : {}),
      ...(token('tokenizer.ggml.bos_token_id') ? { bos_token: token('tokenizer.ggml.bos_token_id') } : {}),
      ...(token('tokenizer.ggml.eos_token_id') ? { eos_token: token('tokenizer.ggml.eos_token_id') } : {}),
    };
  } catch {
    return undefined;
  }
}

/** A tree or paths-info entry as the hub writes it. */
export type TreeEntry =
  | {
      type: 'file';
      oid: string;
      size: number;
      lfs?: LfsInfo;
      path: string;
      lastCommit?: LastCommit;
      securityFileStatus?: { status: string };
    }
  | { type: 'directory'; oid: string; size: 0; path: string; lastCommit?: LastCommit };

export function fileEntry(f: StoredFile, expand: boolean): TreeEntry {
  return {
    type: 'file',
    oid: f.oid,
    size: f.size,
    ...(f.lfs ? { lfs: { ...f.lfs } } : {}),
    path: f.path,
    ...(expand ? { lastCommit: { ...f.lastCommit }, securityFileStatus: { status: 'unscanned' } } : {}),
  };
}

function dirEntry(commit: Commit, dir: string, expand: boolean): TreeEntry {
  let last: LastCommit | undefined;
  for (const f of commit.files.values()) {
    if (f.path.startsWith(`${dir}/`) && (!last || f.lastCommit.date > last.date)) last = f.lastCommit;
  }
  return {
    type: 'directory',
    oid: commit.trees.get(dir) ?? '',
    size: 0,
    path: dir,
    ...(expand && last ? { lastCommit: { ...last } } : {}),
  };
}

/** Entries under `dir` ('' = root): directories first, then files, each sorted; recursive lists a directory's content after it. */
export function listTree(commit: Commit, dir: string, recursive: boolean, expand: boolean): TreeEntry[] | undefined {
  if (dir && !commit.trees.has(dir)) return undefined;
  const prefix = dir ? `${dir}/` : '';
  const dirs = new Set<string>();
  const files: StoredFile[] = [];
  for (const f of commit.files.values()) {
    if (!f.path.startsWith(prefix)) continue;
    const rest = f.path.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) files.push(f);
    else dirs.add(prefix + rest.slice(0, slash));
  }
  const out: TreeEntry[] = [];
  for (const d of [...dirs].sort()) {
    out.push(dirEntry(commit, d, expand));
    if (recursive) out.push(...(listTree(commit, d, true, expand) ?? []));
  }
  for (const f of files.sort((a, b) => (a.path < b.path ? -1 : 1))) out.push(fileEntry(f, expand));
  return out;
}

export function pathInfo(commit: Commit, path: string, expand: boolean): TreeEntry | undefined {
  const f = commit.files.get(path);
  if (f) return fileEntry(f, expand);
  return commit.trees.has(path) && path ? dirEntry(commit, path, expand) : undefined;
}

/** Keys the hub accepts in `expand` for models. */
export const MODEL_EXPAND_KEYS = [
  'author',
  'baseModels',
  'cardData',
  'childrenModelCount',
  'config',
  'createdAt',
  'disabled',
  'downloads',
  'downloadsAllTime',
  'gated',
  'gguf',
  'gitalyUid',
  'inference',
  'inferenceProviderMapping',
  'lastModified',
  'library_name',
  'likes',
  'mask_token',
  'model-index',
  'pipeline_tag',
  'private',
  'resourceGroup',
  'safetensors',
  'sha',
  'siblings',
  'spaces',
  'tags',
  'transformersInfo',
  'trendingScore',
  'widgetData',
  'usedStorage',
  'xetEnabled',
] as const;

/** The full model-info object, in the hub's key order; undefined fields are left out like the hub does. */
export function modelInfoFields(repo: StoredRepo, commit: Commit, blobs: boolean): Record<string, unknown> {
  const spec = repo.spec;
  const files = [...commit.files.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  const tags = [...new Set([...(spec.tags ?? []), ...(spec.license ? [`license:${spec.license}`] : [])])];
  const siblings = files.map((f) =>
    blobs
      ? {
          rfilename: f.path,
          blobId: f.oid,
          size: f.size,
          ...(f.lfs ? { lfs: { sha256: f.lfs.oid, size: f.lfs.size, pointerSize: f.lfs.pointerSize } } : {}),
        }
      : { rfilename: f.path },
  );
  const fields: Record<string, unknown> = {
    private: spec.private ?? false,
    pipeline_tag: spec.pipelineTag,
    library_name: spec.libraryName,
    tags,
    downloads: 0,
    likes: 0,
    modelId: repo.id,
    author: repo.id.split('/')[0],
    sha: commit.sha,
    lastModified: commit.date.toISOString(),
    gated: spec.gated ? 'auto' : false,
    disabled: false,
    config: spec.config,
    cardData: spec.license ? { license: spec.license } : undefined,
    siblings,
    spaces: [],
    gguf: repo.gguf,
    createdAt: repo.createdAt.toISOString(),
    usedStorage: files.reduce((n, f) => n + f.size, 0),
    downloadsAllTime: 0,
    trendingScore: 0,
    xetEnabled: false,
    gitalyUid: repo.objectId,
  };
  return fields;
}

const FULL_KEYS = [
  'private',
  'pipeline_tag',
  'library_name',
  'tags',
  'downloads',
  'likes',
  'modelId',
  'author',
  'sha',
  'lastModified',
  'gated',
  'disabled',
  'config',
  'cardData',
  'siblings',
  'spaces',
  'gguf',
  'createdAt',
  'usedStorage',
];

/** Model info; with `expand` only `_id`, `id` and the expanded fields, as the hub answers. */
export function modelInfoJson(repo: StoredRepo, commit: Commit, expand: string[] | null, blobs: boolean): Record<string, unknown> {
  const fields = modelInfoFields(repo, commit, blobs);
  const out: Record<string, unknown> = { _id: repo.objectId, id: repo.id };
  for (const key of expand ?? FULL_KEYS) if (fields[key] !== undefined) out[key] = fields[key];
  return out;
}
