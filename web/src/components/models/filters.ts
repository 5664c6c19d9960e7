// The Models page's filters and view, kept in the URL query so a reload or a shared link shows the same selection.
import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router-dom';
import type { ModelRow } from './data.ts';

export const FILTER_KEYS = ['status', 'format', 'backend', 'tag', 'name'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
export type Filters = Record<FilterKey, string>;
export type View = 'grid' | 'table';

/** Filters and view from the query string, and setters that rewrite it (replace: typing a name is not history). */
export function useModelFilters() {
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => Object.fromEntries(FILTER_KEYS.map((key) => [key, params.get(key) ?? ''])) as Filters, [params]);
  const view: View = params.get('view') === 'table' ? 'table' : 'grid';
  const setParam = useCallback(
    (key: FilterKey | 'view', value: string) =>
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          if (value) next.set(key, value);
          else next.delete(key);
          return next;
        },
        { replace: true },
      ),
    [setParams],
  );
  const clear = useCallback(
    () =>
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          for (const key of FILTER_KEYS) next.delete(key);
          return next;
        },
        { replace: true },
      ),
    [setParams],
  );
  const active = FILTER_KEYS.some((key) => filters[key] !== '');
  return { filters, view, setParam, clear, active };
}

/** The rows the filters let through; a model without a status yet counts as not_loaded. */
export function applyFilters(rows: ModelRow[], filters: Filters): ModelRow[] {
  const name = filters.name.trim().toLowerCase();
  return rows.filter(({ summary, status }) => {
    if (name && !summary.name.toLowerCase().includes(name)) return false;
    if (filters.format && summary.format !== filters.format) return false;
    if (filters.tag && !summary.tags.includes(filters.tag)) return false;
    if (filters.status && (status?.status ?? 'not_loaded') !== filters.status) return false;
    if (filters.backend && status?.backend !== filters.backend) return false;
    return true;
  });
}

/** The distinct values present, sorted: the filter menus offer only what the catalog holds. */
export function choices(rows: ModelRow[]) {
  const formats = new Set<string>();
  const backends = new Set<string>();
  const tags = new Set<string>();
  for (const { summary, status } of rows) {
    if (summary.format) formats.add(summary.format);
    if (status?.backend) backends.add(status.backend);
    for (const tag of summary.tags) tags.add(tag);
  }
  const sorted = (set: Set<string>) => [...set].sort();
  return { formats: sorted(formats), backends: sorted(backends), tags: sorted(tags) };
}
