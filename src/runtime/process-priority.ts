// Lowers a runner's CPU priority (every thread of it) so the control plane stays responsive while models compute.
import fs from 'node:fs';
import os from 'node:os';

/**
 * Sets `nice` on each thread of `pid` (Linux nice is per thread; threads a runner creates later inherit it).
 * Best effort: returns how many threads were changed; 0 when not allowed or not supported.
 */
export function lowerProcessPriority(pid: number | undefined, nice: number): number {
  if (!pid || nice <= 0) return 0;
  let threads: number[];
  try {
    threads = fs.readdirSync(`/proc/${pid}/task`).map(Number).filter(Number.isInteger);
  } catch {
    threads = [pid];
  }
  let changed = 0;
  for (const tid of threads) {
    try {
      os.setPriority(tid, nice);
      changed++;
    } catch {
      // The thread ended meanwhile, or the OS refuses: the runner keeps its priority.
    }
  }
  return changed;
}
