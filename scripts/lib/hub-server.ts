// Local Hugging Face hub-compatible HTTP server (node:http) for tests and benchmarks: model search, model info, tree, paths-info, resolve with Range, auth, faults, throttling.
import http, { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  hashFileSpec,
  listTree,
  makeCommit,
  modelInfoFields,
  modelInfoJson,
  normalizeRepoPath,
  pathInfo,
  sha1Hex,
  summarizeGguf,
  MODEL_EXPAND_KEYS,
  type Commit,
  type HubRepoSpec,
  type PendingFile,
  type StoredFile,
  type StoredRepo,
} from './hub-store.ts';
import { parseRange, streamRange, type BodyFault } from './hub-stream.ts';

export type { HubFileSpec, HubRepoSpec } from './hub-store.ts';

/** Token accepted when `startHubServer` is given none (the hub client insists on the `hf_` prefix). */
export const DEFAULT_HUB_TOKEN = 'hf_hangar_test_token';

export interface HubServerOptions {
  port?: number;
  token?: string;
  pageSize?: number;
  bytesPerSecond?: number | null;
}

export interface HubFault {
  repo?: string;
  path?: string;
  kind: 'drop' | 'stall' | 'corrupt' | 'status';
  /** Absolute file byte offset; the rule then only matches requests whose range covers it. */
  atOffset?: number;
  /** Applies to the next N matching requests; default 1. */
  times?: number;
  /** Stall length; default: until the client goes. */
  stallMs?: number;
  status?: number;
  retryAfterSeconds?: number;
}

export interface HubRequestLog {
  method: string;
  /** URL path without the query. */
  path: string;
  query: string;
  range: string | null;
  status: number;
  /** Body bytes written so far. */
  bytesSent: number;
  repo?: string;
  file?: string;
}

export interface HubServer {
  readonly url: string;
  readonly token: string;
  readonly requests: HubRequestLog[];
  close(): Promise<void>;
  /** Hashes the files (streamed, cached) and publishes the repo; resolves to its commit sha. */
  addRepo(repo: HubRepoSpec): Promise<string>;
  removeRepo(id: string): boolean;
  /** Commits new content for one file (added if missing) on the repo's branch; older commits stay reachable by sha. */
  replaceFile(repoId: string, path: string, content: Buffer | string): Promise<string>;
  addFault(rule: HubFault): void;
  clearFaults(): void;
  /** Body bytes sent by GET /resolve/ for that file, all requests and revisions together. */
  bytesServed(repoId: string, path: string): number;
  /** Per-response rate limit for resolve bodies; null turns it off. Applies to responses already streaming. */
  setBytesPerSecond(bytesPerSecond: number | null): void;
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  log: HubRequestLog;
  signal: AbortSignal;
  url: URL;
}
type Rule = HubFault & { remaining: number };

function head(ctx: Ctx, status: number, headers: Record<string, string>): void {
  ctx.log.status = status;
  ctx.res.writeHead(status, headers);
}

function sendJson(ctx: Ctx, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  head(ctx, status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)), ...headers });
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : text);
}

function sendError(ctx: Ctx, status: number, code: string | undefined, message: string, headers: Record<string, string> = {}): void {
  const header = message.replace(/[^\x20-\x7e]/g, ' ');
  sendJson(ctx, status, { error: message }, { ...(code ? { 'X-Error-Code': code } : {}), 'X-Error-Message': header, ...headers });
}

const truthy = (v: string | null): boolean => v !== null && ['true', '1', 'True'].includes(v);

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1 << 20) throw new Error('body too large');
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}

export async function startHubServer(options: HubServerOptions = {}): Promise<HubServer> {
  const token = options.token ?? DEFAULT_HUB_TOKEN;
  const pageSize = Math.max(1, options.pageSize ?? 1000);
  let bytesPerSecond = options.bytesPerSecond ?? null;
  const repos = new Map<string, StoredRepo>();
  let faults: Rule[] = [];
  const served = new Map<string, number>();
  const requests: HubRequestLog[] = [];

  function takeFaults(repo: string, path: string, start: number, end: number): Rule[] {
    const matched = faults.filter(
      (r) =>
        (!r.repo || r.repo === repo) &&
        (!r.path || r.path === path) &&
        (r.atOffset === undefined || (r.atOffset >= start && r.atOffset <= end)),
    );
    const status = matched.find((r) => r.kind === 'status');
    const used = status ? [status] : matched;
    for (const r of used) r.remaining--;
    faults = faults.filter((r) => r.remaining > 0);
    return used;
  }

  async function resolve(ctx: Ctx, repo: StoredRepo, commit: Commit, f: StoredFile, raw: boolean): Promise<void> {
    const { req } = ctx;
    const body: StoredFile = raw && f.pointer ? { ...f, content: f.pointer, file: undefined, size: f.pointer.length } : f;
    const size = body.size;
    const etag = `"${raw || !f.lfs ? f.oid : f.sha256}"`;
    const name = f.path.split('/').pop() ?? f.path;
    const headers: Record<string, string> = {
      'Accept-Ranges': 'bytes',
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': `inline; filename*=UTF-8''${encodeURIComponent(name)}; filename="${name.replace(/[^\x20-\x7e]|"/g, '_')}";`,
      ETag: etag,
      'X-Repo-Commit': commit.sha,
      ...(f.lfs && !raw ? { 'X-Linked-Etag': etag, 'X-Linked-Size': String(size) } : {}),
    };
    if (req.headers['if-none-match'] === etag) {
      head(ctx, 304, headers);
      ctx.res.end();
      return;
    }
    const ifRange = req.headers['if-range'];
    const range = ifRange !== undefined && ifRange !== etag ? null : parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      head(ctx, 416, { ...headers, 'Content-Range': `bytes */${size}`, 'Content-Length': '0' });
      ctx.res.end();
      return;
    }
    const start = range ? range.start : 0;
    const end = range ? range.end : size - 1;
    const rules = req.method === 'GET' && !raw ? takeFaults(repo.id, f.path, start, end) : [];
    const status = rules.find((r) => r.kind === 'status');
    if (status) {
      const code = status.status ?? 500;
      sendError(
        ctx,
        code,
        undefined,
        STATUS_CODES[code] ?? 'Error',
        status.retryAfterSeconds !== undefined ? { 'Retry-After': String(status.retryAfterSeconds) } : {},
      );
      return;
    }
    head(ctx, range ? 206 : 200, {
      ...headers,
      'Content-Length': String(end - start + 1),
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD' || size === 0) {
      ctx.res.end();
      return;
    }
    ctx.res.flushHeaders();
    const key = `${repo.id}\0${f.path}`;
    await streamRange({
      res: ctx.res,
      signal: ctx.signal,
      source: body,
      start,
      end,
      faults: rules.filter((r): r is Rule & BodyFault => r.kind !== 'status'),
      rate: () => (raw ? null : bytesPerSecond),
      onBytes: (n) => {
        ctx.log.bytesSent += n;
        if (!raw) served.set(key, (served.get(key) ?? 0) + n);
      },
    });
  }

  /** Finds the repo and checks access; answers the error itself and returns undefined when refused. */
  function repoFor(ctx: Ctx, id: string, authed: boolean, files: boolean): StoredRepo | undefined {
    const repo = repos.get(id);
    ctx.log.repo = id;
    if (!repo) return void sendError(ctx, 404, 'RepoNotFound', 'Repository not found');
    if (repo.spec.private && !authed) return void sendError(ctx, 401, 'RepoNotFound', 'Repository not found');
    if (files && repo.spec.gated && !authed) {
      const message = `Access to model ${id} is restricted. You must have access to it and be authenticated to access it. Please log in.`;
      return void sendError(ctx, 401, 'GatedRepo', message);
    }
    return repo;
  }

  function commitFor(ctx: Ctx, repo: StoredRepo, rev: string): Commit | undefined {
    const commit = rev === repo.branch || rev === 'HEAD' ? repo.commits.get(repo.head) : repo.commits.get(rev);
    if (!commit) sendError(ctx, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
    return commit;
  }

  /**
   * GET /api/models as the hub answers it (what @huggingface/hub's listModels reads): `search` (substring of the id, any
   * case), `author`, `filter` (tags), `pipeline_tag`, `sort` (descending) and `limit`; pages follow a `Link: <…>; rel="next"`
   * cursor. Without `expand` each item has the hub's list fields; with it `_id`, `id` and the expanded fields. Private
   * repos are listed only to an authenticated caller.
   */
  function listModels(ctx: Ctx, authed: boolean): void {
    const { url, req } = ctx;
    const params = url.searchParams;
    const expand = [...params.getAll('expand'), ...params.getAll('expand[]')];
    const bad = expand.filter((k) => !(MODEL_EXPAND_KEYS as readonly string[]).includes(k));
    if (bad.length) {
      sendError(ctx, 400, undefined, `"expand" must be one of [${MODEL_EXPAND_KEYS.join(', ')}]`);
      return;
    }
    const limitText = params.get('limit');
    const limit = limitText === null ? 1000 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      sendError(ctx, 400, undefined, '"limit" must be between 1 and 1000');
      return;
    }
    const search = (params.get('search') ?? '').toLowerCase();
    const author = params.get('author');
    const task = params.get('pipeline_tag');
    const tags = params.getAll('filter');
    const items = [...repos.values()]
      .filter((repo) => authed || !repo.spec.private)
      .map((repo) => {
        const commit = repo.commits.get(repo.head) as Commit;
        const fields: Record<string, unknown> = { ...modelInfoFields(repo, commit, false), trendingScore: 0 };
        return { repo, fields };
      })
      .filter(
        ({ repo, fields }) =>
          repo.id.toLowerCase().includes(search) &&
          (!author || repo.id.split('/')[0] === author) &&
          (!task || fields.pipeline_tag === task) &&
          tags.every((tag) => (fields.tags as string[]).includes(tag)),
      );
    const sort = params.get('sort');
    items.sort((a, b) => {
      const x = sort ? (a.fields[sort] as string | number | undefined) : undefined;
      const y = sort ? (b.fields[sort] as string | number | undefined) : undefined;
      if (x !== y && x !== undefined && y !== undefined) return x > y ? -1 : 1;
      return a.repo.id < b.repo.id ? -1 : 1;
    });
    const cursor = params.get('cursor');
    const offset = cursor ? Number(Buffer.from(cursor, 'base64url').toString('utf8')) || 0 : 0;
    const size = Math.min(limit, pageSize);
    const listKeys = ['likes', 'trendingScore', 'private', 'downloads', 'tags', 'pipeline_tag', 'library_name', 'createdAt', 'modelId'];
    const page = items.slice(offset, offset + size).map(({ repo, fields }) => {
      const out: Record<string, unknown> = { _id: repo.objectId, id: repo.id };
      for (const key of expand.length ? [...new Set(expand)] : listKeys) if (fields[key] !== undefined) out[key] = fields[key];
      return out;
    });
    const headers: Record<string, string> = {};
    if (offset + size < items.length) {
      const next = new URL(url.pathname + url.search, `http://${req.headers.host ?? '127.0.0.1'}`);
      next.searchParams.set('cursor', Buffer.from(String(offset + size)).toString('base64url'));
      headers.Link = `<${next.href}>; rel="next"`;
    }
    sendJson(ctx, 200, page, headers);
  }

  async function handle(ctx: Ctx): Promise<void> {
    const { req, url } = ctx;
    const segs = url.pathname
      .split('/')
      .slice(1)
      .map((s) => {
        try {
          return decodeURIComponent(s);
        } catch {
          return s;
        }
      });
    const authHeader = req.headers.authorization;
    if (authHeader !== undefined && authHeader !== `Bearer ${token}`)
      return sendError(ctx, 401, undefined, 'Invalid credentials in Authorization header');
    const authed = authHeader !== undefined;
    const method = req.method ?? 'GET';

    if (segs[0] === 'api' && segs[1] === 'whoami-v2' && method === 'GET') {
      if (!authed) return sendError(ctx, 401, undefined, 'Invalid username or password.');
      return sendJson(ctx, 200, {
        type: 'user',
        id: sha1Hex('user').slice(0, 24),
        name: 'hangar-test',
        fullname: 'Hangar Test',
        auth: { type: 'access_token', accessToken: { displayName: 'hangar-test', role: 'read' } },
      });
    }

    if (segs[0] === 'api' && segs[1] === 'models' && segs.length === 2 && (method === 'GET' || method === 'HEAD')) {
      return listModels(ctx, authed);
    }

    if (segs[0] === 'api' && segs[1] === 'models' && segs.length >= 4) {
      const id = `${segs[2]}/${segs[3]}`;
      const action = segs[4];
      if (method === 'GET' && (action === undefined || (action === 'revision' && segs.length === 6))) {
        const repo = repoFor(ctx, id, authed, false);
        const commit = repo && commitFor(ctx, repo, action ? segs[5] : 'HEAD');
        if (!repo || !commit) return;
        const expand = [...url.searchParams.getAll('expand'), ...url.searchParams.getAll('expand[]')];
        const bad = expand.filter((k) => !(MODEL_EXPAND_KEYS as readonly string[]).includes(k));
        if (bad.length) return sendError(ctx, 400, undefined, `"expand" must be one of [${MODEL_EXPAND_KEYS.join(', ')}]`);
        return sendJson(
          ctx,
          200,
          modelInfoJson(repo, commit, expand.length ? [...new Set(expand)] : null, truthy(url.searchParams.get('blobs'))),
        );
      }
      if (method === 'GET' && action === 'tree' && segs.length >= 6) {
        const repo = repoFor(ctx, id, authed, false);
        const commit = repo && commitFor(ctx, repo, segs[5]);
        if (!repo || !commit) return;
        const dir = segs.slice(6).filter(Boolean).join('/');
        const entries = listTree(commit, dir, truthy(url.searchParams.get('recursive')), truthy(url.searchParams.get('expand')));
        if (!entries) return sendError(ctx, 404, 'EntryNotFound', `Entry not found`, { 'X-Repo-Commit': commit.sha });
        let offset = 0;
        const cursor = url.searchParams.get('cursor');
        if (cursor) {
          const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8') || '{}');
          offset = typeof parsed === 'object' && parsed && 'offset' in parsed && typeof parsed.offset === 'number' ? parsed.offset : 0;
        }
        const page = entries.slice(offset, offset + pageSize);
        const headers: Record<string, string> = {};
        if (offset + pageSize < entries.length) {
          const next = new URL(url.pathname + url.search, `http://${req.headers.host ?? '127.0.0.1'}`);
          next.searchParams.set('cursor', Buffer.from(JSON.stringify({ offset: offset + pageSize })).toString('base64url'));
          headers.Link = `<${next.href}>; rel="next"`;
        }
        return sendJson(ctx, 200, page, headers);
      }
      if (method === 'POST' && action === 'paths-info' && segs.length === 6) {
        const repo = repoFor(ctx, id, authed, false);
        const commit = repo && commitFor(ctx, repo, segs[5]);
        if (!repo || !commit) return;
        const text = await readBody(req);
        let paths: string[] = [];
        let expand = false;
        if ((req.headers['content-type'] ?? '').includes('json')) {
          const body = JSON.parse(text || '{}') as { paths?: unknown; expand?: unknown };
          paths = (Array.isArray(body.paths) ? body.paths : [body.paths]).filter((p): p is string => typeof p === 'string');
          expand = body.expand === true || body.expand === 'true';
        } else {
          const form = new URLSearchParams(text);
          paths = form.getAll('paths');
          expand = truthy(form.get('expand'));
        }
        const out = paths.map((p) => pathInfo(commit, p.replace(/^\/+|\/+$/g, ''), expand)).filter((e) => e !== undefined);
        return sendJson(ctx, 200, out);
      }
      return sendError(ctx, 404, undefined, 'Not Found');
    }

    if (segs.length >= 5 && (segs[2] === 'resolve' || segs[2] === 'raw') && (method === 'GET' || method === 'HEAD')) {
      const repo = repoFor(ctx, `${segs[0]}/${segs[1]}`, authed, true);
      const commit = repo && commitFor(ctx, repo, segs[3]);
      if (!repo || !commit) return;
      const path = segs.slice(4).join('/');
      ctx.log.file = path;
      const f = commit.files.get(path);
      if (!f) return sendError(ctx, 404, 'EntryNotFound', 'Entry not found', { 'X-Repo-Commit': commit.sha });
      return resolve(ctx, repo, commit, f, segs[2] === 'raw');
    }
    return sendError(ctx, 404, undefined, 'Not Found');
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub.local');
    const log: HubRequestLog = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      range: req.headers.range ?? null,
      status: 0,
      bytesSent: 0,
    };
    requests.push(log);
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    const ctx: Ctx = { req, res, log, signal: ac.signal, url };
    handle(ctx).catch((err: unknown) => {
      if (!res.headersSent) sendError(ctx, 500, undefined, err instanceof Error ? err.message : String(err));
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => ok());
  });
  const port = (server.address() as AddressInfo).port;

  async function publish(repo: StoredRepo, commit: Commit, ggufChanged: boolean): Promise<string> {
    repo.commits.set(commit.sha, commit);
    repo.head = commit.sha;
    if (ggufChanged) {
      const first = [...commit.files.values()].filter((f) => f.path.endsWith('.gguf')).sort((a, b) => (a.path < b.path ? -1 : 1))[0];
      repo.gguf = first ? await summarizeGguf(first) : undefined;
    }
    return commit.sha;
  }

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
    async addRepo(spec) {
      if (!/^[\w.-]+\/[\w.-]+$/.test(spec.id)) throw new Error(`hub: repo id must be org/name, got ${JSON.stringify(spec.id)}`);
      const files = new Map<string, PendingFile>();
      for (const fs of spec.files) {
        const f = await hashFileSpec(fs);
        if (files.has(f.path)) throw new Error(`hub: duplicate path ${f.path} in ${spec.id}`);
        files.set(f.path, f);
      }
      const now = new Date();
      const commit = makeCommit(files, undefined, 'Initial commit', now);
      const repo: StoredRepo = {
        id: spec.id,
        spec,
        branch: spec.revision ?? 'main',
        head: commit.sha,
        commits: new Map(),
        createdAt: now,
        objectId: sha1Hex(`repo:${spec.id}`).slice(0, 24),
      };
      const sha = await publish(repo, commit, true);
      repos.set(spec.id, repo);
      return sha;
    },
    removeRepo: (id) => repos.delete(id),
    async replaceFile(repoId, path, content) {
      const repo = repos.get(repoId);
      if (!repo) throw new Error(`hub: no repo ${repoId}`);
      const current = repo.commits.get(repo.head);
      const f = await hashFileSpec({ path, content: typeof content === 'string' ? Buffer.from(content) : content });
      const files = new Map<string, PendingFile>(current?.files);
      files.set(f.path, f);
      const date = new Date(Math.max(Date.now(), (current?.date.getTime() ?? 0) + 1000));
      return publish(repo, makeCommit(files, current, `Update ${normalizeRepoPath(path)}`, date), f.path.endsWith('.gguf'));
    },
    addFault(rule) {
      faults.push({ ...rule, remaining: rule.times ?? 1 });
    },
    clearFaults() {
      faults = [];
    },
    bytesServed: (repoId, path) => served.get(`${repoId}\0${path}`) ?? 0,
    setBytesPerSecond(n) {
      bytesPerSecond = n && n > 0 ? n : null;
    },
  };
}
