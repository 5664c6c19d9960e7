// Client of a Hugging Face-compatible hub: repo facts and file listing via @huggingface/hub, URLs and errors for downloads.
import { gguf } from '@huggingface/gguf';
import { HangarError, NotFound } from '../errors.ts';
import { textBefore } from '../text-before.ts';

export interface HubFile {
  /** `/`-separated path in the repo. */
  path: string;
  size_bytes: number;
  /** sha256 of the content for LFS files (the hub's LFS oid); null for plain git files. */
  sha256: string | null;
  /** Git blob id (sha1 of `blob <size>\0` + content); checks plain git files. */
  git_oid: string | null;
  lfs: boolean;
}

export interface RepoSnapshot {
  repo_id: string;
  /** The revision asked for (branch, tag or commit). */
  revision: string;
  /** The commit that revision pointed to when listed: downloads pin to it. */
  commit_sha: string;
  private: boolean;
  gated: boolean;
  license: string | null;
  tags: string[];
  pipeline_tag: string | null;
  library_name: string | null;
  config: Record<string, unknown> | null;
  last_modified: string | null;
  files: HubFile[];
}

export interface HubClientOptions {
  endpoint: string;
  token?: string;
  fetch?: typeof fetch;
}

// ASCII segments that do not end with a dot (the hub refuses such names too; `org/tiny.` would look like `org/tiny`).
const REPO_SEGMENT = '[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?';
const REPO_ID = new RegExp(`^${REPO_SEGMENT}(/${REPO_SEGMENT})?$`);

/** Fails with 400 unless `repoId` is `name` or `org/name` in the hub's characters. */
export function assertRepoId(repoId: string): void {
  if (!REPO_ID.test(repoId) || repoId.length > 96 || repoId.includes('..')) {
    throw new HangarError('invalid_repo_id', `"${repoId}" is not a hub repo id (expected org/name)`, { repo_id: repoId });
  }
}

function encodePath(filePath: string): string {
  return filePath.split('/').map(encodeURIComponent).join('/');
}

/** The hub's own error code (`X-Error-Code`) mapped to Hangar's errors. */
export function hubError(status: number, hubCode: string | null, message: string, details: Record<string, unknown>): HangarError {
  if (status === 401 || status === 403) {
    const gated = hubCode === 'GatedRepo';
    if (!gated && hubCode === 'RepoNotFound') {
      return new NotFound(
        `Hub repo not found (or private: set HF_TOKEN): ${message}`,
        { ...details, hub_status: status },
        'hub_repo_not_found',
      );
    }
    return new HangarError(
      'hub_access_denied',
      `The hub refused access${gated ? ' (gated repo: accept its terms and set HF_TOKEN)' : ' (check HF_TOKEN)'}: ${message}`,
      { ...details, hub_status: status, hub_error_code: hubCode },
    );
  }
  if (status === 404) {
    const code =
      hubCode === 'RevisionNotFound' ? 'hub_revision_not_found' : hubCode === 'EntryNotFound' ? 'hub_file_not_found' : 'hub_repo_not_found';
    return new NotFound(`Not found on the hub: ${message}`, { ...details, hub_error_code: hubCode }, code);
  }
  return new HangarError('hub_error', `The hub answered ${status}: ${message}`, {
    ...details,
    hub_status: status,
    hub_error_code: hubCode,
  });
}

export class HubClient {
  readonly endpoint: string;
  private readonly token: string | undefined;
  private readonly baseFetch: typeof fetch;
  /** X-Error-Code of failed hub answers by URL: @huggingface/hub's errors keep only the status. */
  private readonly errorCodes = new Map<string, string>();

  constructor(options: HubClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.token = options.token || undefined;
    this.baseFetch = options.fetch ?? fetch;
  }

  /** Headers every hub request carries (auth when a token is set). */
  headers(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  /** fetch that adds auth and remembers the hub's error code; usable by @huggingface/gguf too. */
  readonly fetch: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    for (const [k, v] of Object.entries(this.headers())) if (!headers.has(k)) headers.set(k, v);
    let response: Response;
    try {
      response = await this.baseFetch(input, { ...init, headers });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new HangarError('hub_unreachable', `Cannot reach the hub at ${this.endpoint}: ${(error as Error).message}`, {
        endpoint: this.endpoint,
      });
    }
    const code = response.headers.get('x-error-code');
    if (!response.ok && code) {
      if (this.errorCodes.size > 100) this.errorCodes.clear();
      this.errorCodes.set(response.url || String(input), code);
    }
    return response;
  };

  resolveUrl(repoId: string, revision: string, filePath: string): string {
    return `${this.endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${encodePath(filePath)}`;
  }

  /** Repo facts and every file (recursive) with sizes and hashes, pinned to the commit the revision points at. */
  async repo(repoId: string, revision = 'main'): Promise<RepoSnapshot> {
    assertRepoId(repoId);
    const details = { repo_id: repoId, revision };
    try {
      // Imported on first use: a server that never talks to a hub does not load the client.
      const { listFiles, modelInfo } = await import('@huggingface/hub');
      const info = await modelInfo({
        name: repoId,
        revision,
        hubUrl: this.endpoint,
        fetch: this.fetch,
        additionalFields: ['sha', 'cardData', 'config', 'tags', 'library_name'],
      });
      const commit = typeof info.sha === 'string' && info.sha ? info.sha : revision;
      const files: HubFile[] = [];
      for await (const entry of listFiles({
        repo: { type: 'model', name: repoId },
        revision: commit,
        recursive: true,
        hubUrl: this.endpoint,
        fetch: this.fetch,
      })) {
        if (entry.type !== 'file') continue;
        files.push({
          path: entry.path,
          size_bytes: entry.lfs?.size ?? entry.size,
          sha256: entry.lfs?.oid ?? null,
          git_oid: entry.oid ?? null,
          lfs: entry.lfs !== undefined,
        });
      }
      files.sort((a, b) => a.path.localeCompare(b.path));
      const card = (info.cardData ?? {}) as Record<string, unknown>;
      const tags = Array.isArray(info.tags) ? info.tags.map(String) : [];
      const licenseTag = tags.find((t) => t.startsWith('license:'));
      return {
        repo_id: repoId,
        revision,
        commit_sha: commit,
        private: info.private,
        gated: info.gated !== false,
        license: typeof card.license === 'string' ? card.license : licenseTag ? licenseTag.slice('license:'.length) : null,
        tags,
        pipeline_tag: info.task ?? null,
        library_name: typeof info.library_name === 'string' ? info.library_name : null,
        config: info.config && typeof info.config === 'object' ? (info.config as Record<string, unknown>) : null,
        last_modified: info.updatedAt instanceof Date && !Number.isNaN(info.updatedAt.getTime()) ? info.updatedAt.toISOString() : null,
        files,
      };
    } catch (error) {
      throw this.mapError(error, details);
    }
  }

  /** A small JSON file of the repo (e.g. config.json), or null when absent. */
  async fileJson(repoId: string, revision: string, filePath: string): Promise<Record<string, unknown> | null> {
    const response = await this.fetch(this.resolveUrl(repoId, revision, filePath));
    if (response.status === 404) return null;
    if (!response.ok)
      throw hubError(response.status, response.headers.get('x-error-code'), `${filePath}`, { repo_id: repoId, path: filePath });
    const parsed: unknown = await response.json();
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  }

  /** The GGUF header of a repo file, read with HTTP range requests (the weights are not downloaded); model-shape's ggufFacts maps it. */
  async ggufHeader(repoId: string, commit: string, filePath: string) {
    try {
      return await gguf(this.resolveUrl(repoId, commit, filePath), { fetch: this.fetch, computeParametersCount: true });
    } catch (error) {
      if (error instanceof HangarError) throw error;
      throw new HangarError('hub_bad_gguf', `${filePath} in ${repoId} has no readable GGUF header: ${(error as Error).message}`, {
        repo_id: repoId,
        path: filePath,
      });
    }
  }

  /** The repo's transformers config: the listing's `config` overlaid with its config.json file. */
  async repoConfig(snapshot: RepoSnapshot): Promise<Record<string, unknown>> {
    return { ...(snapshot.config ?? {}), ...((await this.fileJson(snapshot.repo_id, snapshot.commit_sha, 'config.json')) ?? {}) };
  }

  /** Turns what @huggingface/hub threw into a Hangar error with the hub's code. */
  mapError(error: unknown, details: Record<string, unknown>): Error {
    if (error instanceof HangarError) return error;
    const hubApi = error as { statusCode?: number; url?: string; message?: string };
    if (typeof hubApi.statusCode === 'number') {
      const code = (hubApi.url && this.errorCodes.get(hubApi.url)) ?? null;
      return hubError(hubApi.statusCode, code, textBefore(hubApi.message ?? '', '. URL:'), details);
    }
    return new HangarError('hub_error', `Hub request failed: ${(error as Error).message}`, details);
  }
}
