// How a model's facts read on its card and in the table: one wording for both views.
import type { ModelSummary } from '../../../../src/schemas/models.ts';
import type { ModelStatus } from '../../../../src/schemas/runtime.ts';
import { formatBytes } from '../../format.ts';

const MIB = 1024 * 1024;

export const isRunning = (status: ModelStatus | undefined) =>
  status?.status === 'loaded' || status?.status === 'loading' || status?.status === 'unloading';

/** The version the status reports (the loaded one) or else the catalog's production/latest version. */
export function versionText(summary: ModelSummary, status: ModelStatus | undefined): string {
  const version = status?.version ?? summary.production_version ?? summary.latest_version;
  return version == null ? '—' : `v${version}`;
}

export function deviceText(status: ModelStatus | undefined): string {
  if (!status || !isRunning(status)) return '—';
  return status.device === 'gpu' ? `GPU ${status.gpu ?? ''}`.trim() : 'CPU';
}

/** Memory measured from the runner process (RSS), plus VRAM on a GPU; nothing while not loaded. */
export function memoryText(status: ModelStatus | undefined): string {
  if (!status || !isRunning(status) || status.memory_usage_mb <= 0) return '—';
  const ram = formatBytes(status.memory_usage_mb * MIB);
  return status.vram_usage_mb ? `${ram} + ${formatBytes(status.vram_usage_mb * MIB)} VRAM` : ram;
}

export function requestsText(status: ModelStatus | undefined): string {
  if (!status) return '—';
  return `${status.in_flight} in flight · ${status.queue_depth} queued`;
}
