// Remembers the peak memory each version took when loaded, per device, so the next load's estimate is a measurement.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { readRssBytes } from '../monitor/process-memory.ts';
import type { ServedModel } from './served-model.ts';

export interface Measurement {
  versionId: string;
  device: 'cpu' | 'gpu';
  backend: string;
  peakRssBytes: number;
  vramBytes: number | null;
  loadMs: number;
}

export class MeasurementStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Peak RSS (and VRAM on a GPU) measured the last time this version was loaded on this kind of device. */
  async peak(versionId: string, device: 'cpu' | 'gpu'): Promise<{ rssBytes: number; vramBytes: number | null } | null> {
    const row = await this.db
      .selectFrom('runtime_measurements')
      .select(['peak_rss_bytes', 'vram_bytes'])
      .where('version_id', '=', versionId)
      .where('device', '=', device)
      .executeTakeFirst();
    return row ? { rssBytes: row.peak_rss_bytes, vramBytes: row.vram_bytes } : null;
  }

  async save(m: Measurement): Promise<void> {
    const row = {
      version_id: m.versionId,
      device: m.device,
      backend: m.backend,
      peak_rss_bytes: m.peakRssBytes,
      vram_bytes: m.vramBytes,
      load_ms: Math.round(m.loadMs),
      measured_at: new Date().toISOString(),
    };
    await this.db
      .insertInto('runtime_measurements')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['version_id', 'device']).doUpdateSet({
          peak_rss_bytes: row.peak_rss_bytes,
          vram_bytes: row.vram_bytes,
          load_ms: row.load_ms,
          measured_at: row.measured_at,
          backend: row.backend,
        }),
      )
      .execute();
  }

  /**
   * Records a served model's peak memory, so the next load of this version is placed on a measurement:
   * a runner's RSS read from /proc now (or its highest report), or what an external backend reports.
   */
  async record(served: ServedModel, versionId: string, device: 'cpu' | 'gpu'): Promise<void> {
    const current = served.pid === null ? null : readRssBytes(served.pid);
    await this.save({
      versionId,
      device,
      backend: served.ready.backend,
      peakRssBytes: Math.max(current ?? 0, served.peakMemory.rssBytes),
      vramBytes: served.peakMemory.vramBytes ?? null,
      loadMs: served.ready.loadMs,
    });
  }
}
