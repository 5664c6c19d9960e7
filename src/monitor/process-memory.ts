// Resident memory of a process as the kernel reports it (/proc/<pid>/status), so memory figures are measured, not guessed.
import fsp from 'node:fs/promises';

/** VmRSS of `pid` in bytes, or null when the process is gone or /proc is not available. */
export async function readRssBytes(pid: number): Promise<number | null> {
  try {
    const status = await fsp.readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** True while a process with this pid exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
