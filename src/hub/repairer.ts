// Repairs hub-downloaded versions: fetches only their damaged files again, from the commit they came from.
import type { ResolvedVersion } from '../registry/catalog.ts';
import type { ActionContext } from '../registry/audit.ts';
import { HangarError } from '../errors.ts';
import type { BadFile, VersionRepairer } from './integrity.ts';
import type { DownloadJobs } from './download-jobs.ts';
import type { JobPlan, JobRequest } from './job-store.ts';

interface HubSource {
  kind?: string;
  repo_id?: string;
  revision?: string;
  commit_sha?: string;
  variant?: string;
}

export class HubRepairer implements VersionRepairer {
  private readonly jobs: DownloadJobs;

  constructor(jobs: DownloadJobs) {
    this.jobs = jobs;
  }

  async repair(resolved: ResolvedVersion, badFiles: BadFile[], context: ActionContext): Promise<{ job_id: string; repaired: string[] }> {
    const source = JSON.parse(resolved.version.source) as HubSource;
    if (source.kind !== 'hub' || !source.repo_id || !source.commit_sha) {
      throw new HangarError('not_repairable', `${resolved.model.name}:${resolved.version.version} has no hub source to fetch files from`, {
        source,
      });
    }
    // The expected sha256 is the store's own record, so a plain git file is checked as strictly as an LFS one.
    const request: JobRequest = {
      repo_id: source.repo_id,
      revision: source.commit_sha,
      variant: source.variant ?? null,
      name: resolved.model.name,
      force_redownload: true,
      version_id: resolved.version.id,
    };
    const plan: JobPlan = {
      commit_sha: source.commit_sha,
      variant: source.variant ?? resolved.version.quantization ?? 'default',
      quantization: resolved.version.quantization ?? '',
      format: resolved.version.format as JobPlan['format'],
      entry: '',
      files: badFiles.map((f) => ({
        path: f.path,
        size_bytes: f.size_bytes,
        sha256: f.sha256,
        git_oid: null,
        bytes_done: 0,
        status: 'pending',
      })),
      bytes_fetched: 0,
      retries: 0,
    };
    const job = await this.jobs.repair(request, plan, context);
    if (job.status !== 'completed') {
      throw new HangarError('repair_failed', `Repair job ${job.id} ${job.status}: ${job.error?.message ?? 'no detail'}`, {
        job_id: job.id,
        error: job.error,
      });
    }
    return { job_id: job.id, repaired: badFiles.map((f) => f.path) };
  }
}
