// Per-job download progress: bytes per file, and speed and ETA over a sliding few seconds.
import type { JobFile } from './job-store.ts';

const WINDOW_MS = 3000;

export class ProgressTracker {
  private readonly byPath: Map<string, JobFile>;
  private readonly order: string[];
  /** (time, bytes fetched so far) samples; resumed bytes are not speed. */
  private samples: Array<[number, number]> = [];
  private fetched = 0;

  /** Bytes of unfinished files start at 0: the downloader reports what a resumed partial already holds. */
  constructor(files: JobFile[]) {
    this.order = files.map((f) => f.path);
    this.byPath = new Map(
      files.map((f) => {
        const kept = f.status === 'present' || f.status === 'stored';
        return [f.path, { ...f, bytes_done: kept ? f.size_bytes : 0, status: kept ? f.status : 'pending' }];
      }),
    );
  }

  begin(filePath: string): void {
    const file = this.byPath.get(filePath);
    if (file) file.status = 'downloading';
  }

  add(filePath: string, delta: number, resumed: boolean): void {
    const file = this.byPath.get(filePath);
    if (!file) return;
    file.bytes_done = Math.max(0, Math.min(file.size_bytes, file.bytes_done + delta));
    if (!resumed && delta > 0) {
      this.fetched += delta;
      const now = Date.now();
      this.samples.push([now, this.fetched]);
      // Drop samples older than the window, always keeping two to measure a speed from.
      while (this.samples.length > 2) {
        const [oldest] = this.samples;
        if (!oldest || now - oldest[0] <= WINDOW_MS) break;
        this.samples.shift();
      }
    }
  }

  complete(filePath: string): void {
    const file = this.byPath.get(filePath);
    if (!file) return;
    file.bytes_done = file.size_bytes;
    file.status = 'verified';
  }

  files(): JobFile[] {
    return this.order.map((p) => ({ ...(this.byPath.get(p) as JobFile) }));
  }

  rate(): { speed_bps: number; eta_s: number | null } {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    const elapsed = first && last ? (Date.now() - first[0]) / 1000 : 0;
    const speed = first && last && elapsed > 0.05 ? Math.round((last[1] - first[1]) / elapsed) : 0;
    let remaining = 0;
    for (const f of this.byPath.values()) remaining += f.size_bytes - f.bytes_done;
    return { speed_bps: speed, eta_s: speed > 0 ? Math.round((remaining / speed) * 10) / 10 : remaining === 0 ? 0 : null };
  }
}
