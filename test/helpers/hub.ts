// Starts the project's own hub server with the fixture repos, and a Hangar test server pointed at it.
import type { TestContext } from 'node:test';
import { startHubServer, type HubServer, type HubServerOptions } from '../../scripts/lib/hub-server.ts';
import { makeHubFixtureRepos } from '../../scripts/lib/hub-repos.ts';
import { startTestServer, type TestServer } from './server.ts';
import { tempDir } from './temp.ts';
import { readSse, type SseEvent } from './sse.ts';

export async function startFixtureHub(t: Pick<TestContext, 'after'>, options: HubServerOptions = {}): Promise<HubServer> {
  const dir = await tempDir(t, 'hub-fixtures-');
  const hub = await startHubServer(options);
  t.after(() => hub.close());
  for (const repo of await makeHubFixtureRepos(dir)) await hub.addRepo(repo);
  return hub;
}

/** Hangar with HF_ENDPOINT at `hub` and fast retry settings; `env` overrides. */
export async function startHangarForHub(
  t: Pick<TestContext, 'after'>,
  hub: HubServer,
  env: Record<string, string> = {},
): Promise<TestServer> {
  return startTestServer(t, {
    env: {
      HF_ENDPOINT: hub.url,
      HANGAR_DOWNLOAD_RETRY_BASE_MS: '20',
      HANGAR_DOWNLOAD_STALL_TIMEOUT_MS: '1000',
      ...env,
    },
  });
}

export interface JobView {
  id: string;
  status: string;
  model: string;
  variant: string;
  progress: {
    bytes_done: number;
    bytes_total: number;
    bytes_fetched: number;
    retries: number;
    files: Array<{ path: string; sha256: string | null; size_bytes: number; status: string }>;
  };
  result: { model: string; version: number; quantization: string } | null;
  error: { code: string; message: string } | null;
}

/** Follows a job's event stream to its end; returns the events and the final job. */
export async function followJob(server: TestServer, jobId: string): Promise<{ events: SseEvent[]; job: JobView }> {
  const response = await fetch(`${server.url}/api/v1/jobs/${jobId}/events`);
  const events = await readSse(response);
  const job = (await server.request<JobView>('GET', `/api/v1/jobs/${jobId}`)).body;
  return { events, job };
}

/** Polls until the job reaches one of `statuses` (or the time runs out). */
export async function waitForJob(server: TestServer, jobId: string, statuses: string[], timeoutMs = 30_000): Promise<JobView> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const job = (await server.request<JobView>('GET', `/api/v1/jobs/${jobId}`)).body;
    if (statuses.includes(job.status) || Date.now() > until) return job;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
