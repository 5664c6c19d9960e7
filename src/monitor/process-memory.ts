// Resident memory of a process as the kernel reports it (/proc/<pid>/status), so memory figures are measured, not guessed.
import fs from 'node:fs';

/**
 * VmRSS of `pid` in bytes, or null when the process is gone or /proc is not available. Read synchronously: /proc is
 * generated in memory and never waits for a disk, while an asynchronous read takes four trips through the thread pool
 * (open, stat, read, close), each one waiting for a busy event loop: status calls under load paid for those.
 */
export function readRssBytes(pid: number): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
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

/** Linux reports CPU time in clock ticks; 100 per second on every mainstream kernel configuration. */
const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU seconds a process has used (from /proc/<pid>/stat), or null when it is gone. */
export function readCpuSeconds(pid: number): number | null {
  try {
    // Synchronous for the reason readRssBytes gives.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / CLOCK_TICKS_PER_SECOND : null;
  } catch {
    return null;
  }
}
