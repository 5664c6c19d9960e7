// Temporary folders for tests, removed when the test ends.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

export async function tempDir(t: Pick<TestContext, 'after'>, prefix = 'hangar-test-'): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  t.after(() => removeDir(dir));
  return dir;
}

/** Removes a folder; retried, since a process that is just stopping (a runner, a server's last write) may still add to it. */
export function removeDir(dir: string): Promise<void> {
  return fsp.rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}
