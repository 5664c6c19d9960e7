// Tenant quotas as the Settings page shows and edits them: labels, "used / limit" texts, and form text to API values.
import type { TenantInfo } from '../../../../src/schemas/tenants.ts';
import { formatBytes } from '../../format.ts';
import { formatMb } from '../monitoring/format.ts';

export type Quotas = TenantInfo['quotas'];
export type QuotaName = keyof Quotas;
type UsageName = keyof TenantInfo['usage'];

export interface QuotaDef {
  name: QuotaName;
  label: string;
  /** count: whole things; bytes: typed as "20 GiB"; mb: MiB; rate: per minute, with no running figure to show. */
  kind: 'count' | 'bytes' | 'mb' | 'rate';
  /** The usage figure the limit caps; rates have none in the tenant reply. */
  usage?: UsageName;
  unit?: string;
}

/** Every quota the server knows (src/schemas/tenants.ts), in the order the table shows them. */
export const QUOTAS: readonly QuotaDef[] = [
  { name: 'models', label: 'Models', kind: 'count', usage: 'models', unit: 'models' },
  { name: 'stored_bytes', label: 'Stored', kind: 'bytes', usage: 'stored_bytes' },
  { name: 'loaded_models', label: 'Loaded models', kind: 'count', usage: 'loaded_models', unit: 'loaded' },
  { name: 'ram_mb', label: 'RAM (MiB)', kind: 'mb', usage: 'ram_mb' },
  { name: 'vram_mb', label: 'VRAM (MiB)', kind: 'mb', usage: 'vram_mb' },
  { name: 'concurrent_downloads', label: 'Downloads at once', kind: 'count', usage: 'concurrent_downloads', unit: 'downloads' },
  { name: 'requests_per_minute', label: 'Requests per minute', kind: 'rate' },
  { name: 'inference_per_minute', label: 'Inference per minute', kind: 'rate' },
];

const UNLIMITED = 'unlimited';

/** "3 / 5 models", "1.2 GiB / unlimited", "0.0 MiB / 512.0 MiB", "600 / min". */
export function usageText(def: QuotaDef, tenant: Pick<TenantInfo, 'quotas' | 'usage'>): string {
  const limit = tenant.quotas[def.name];
  if (def.kind === 'rate') return limit == null ? UNLIMITED : `${limit} / min`;
  const used = def.usage ? tenant.usage[def.usage] : 0;
  if (def.kind === 'bytes') return `${formatBytes(used)} / ${limit == null ? UNLIMITED : formatBytes(limit)}`;
  if (def.kind === 'mb') return `${formatMb(used)} / ${limit == null ? UNLIMITED : formatMb(limit)}`;
  return limit == null ? `${used} / ${UNLIMITED}` : `${used} / ${limit} ${def.unit}`;
}

/** Whether the tenant has reached the limit (the next model, load or download of that kind is refused). */
export function atLimit(def: QuotaDef, tenant: Pick<TenantInfo, 'quotas' | 'usage'>): boolean {
  const limit = tenant.quotas[def.name];
  return limit != null && def.usage != null && tenant.usage[def.usage] >= limit;
}

const BYTE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "20 GiB", "500M", "1.5 gb", "1048576" → bytes (binary multiples, as the rest of the dashboard writes sizes); null if unreadable. */
export function parseBytes(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!match) return null;
  const bytes = Math.round(Number(match[1]) * BYTE_UNITS[match[2].toLowerCase()]);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** Bytes as the largest unit that divides them exactly, so an edit form shows what parseBytes reads back unchanged. */
export function bytesText(bytes: number): string {
  for (const [unit, size] of [
    ['TiB', BYTE_UNITS.t],
    ['GiB', BYTE_UNITS.g],
    ['MiB', BYTE_UNITS.m],
    ['KiB', BYTE_UNITS.k],
  ] as const) {
    if (bytes > 0 && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return String(bytes);
}

/** What a form field starts with: the current limit, or empty for unlimited. */
export function quotaInput(def: QuotaDef, limit: number | undefined): string {
  if (limit == null) return '';
  return def.kind === 'bytes' ? bytesText(limit) : String(limit);
}

type Parsed = { value: number | undefined } | { error: string };

/** A field's text as a limit: empty is unlimited; otherwise a whole number ≥ 0 (or a size for stored bytes). */
export function parseQuota(def: QuotaDef, text: string): Parsed {
  const trimmed = text.trim();
  if (trimmed === '') return { value: undefined };
  if (def.kind === 'bytes') {
    const bytes = parseBytes(trimmed);
    return bytes == null ? { error: 'a size such as 20 GiB, 500 MiB or a number of bytes' } : { value: bytes };
  }
  const value = Number(trimmed);
  return Number.isSafeInteger(value) && value >= 0 ? { value } : { error: 'a whole number, 0 or more' };
}

export type QuotaDrafts = Partial<Record<QuotaName, string>>;
export type QuotaErrors = Partial<Record<QuotaName, string>>;

/** A create form's fields as the `quotas` of POST /api/v1/tenants (empty fields left out: unlimited). */
export function newQuotas(drafts: QuotaDrafts): { quotas: Quotas; errors: QuotaErrors } {
  const quotas: Quotas = {};
  const errors: QuotaErrors = {};
  for (const def of QUOTAS) {
    const parsed = parseQuota(def, drafts[def.name] ?? '');
    if ('error' in parsed) errors[def.name] = parsed.error;
    else if (parsed.value !== undefined) quotas[def.name] = parsed.value;
  }
  return { quotas, errors };
}

/** An edit form's fields as the `quotas` of PATCH /api/v1/tenants/{name}: only what changed; a cleared field is null (unlimited). */
export function quotaChange(
  current: Quotas,
  drafts: QuotaDrafts,
): { change: Partial<Record<QuotaName, number | null>>; errors: QuotaErrors } {
  const change: Partial<Record<QuotaName, number | null>> = {};
  const errors: QuotaErrors = {};
  for (const def of QUOTAS) {
    const draft = drafts[def.name];
    if (draft === undefined) continue;
    const parsed = parseQuota(def, draft);
    if ('error' in parsed) errors[def.name] = parsed.error;
    else if (parsed.value !== current[def.name]) change[def.name] = parsed.value ?? null;
  }
  return { change, errors };
}
