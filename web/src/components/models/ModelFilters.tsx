// The Models page toolbar: name search, status/format/backend/tag menus and the grid/table switch, all kept in the URL.
import type { ModelState } from '../../../../src/schemas/runtime.ts';
import type { FilterKey, Filters, View } from './filters.ts';

const STATES: ModelState[] = ['not_loaded', 'loading', 'loaded', 'unloading', 'failed'];

interface Props {
  filters: Filters;
  view: View;
  options: { formats: string[]; backends: string[]; tags: string[] };
  onChange: (key: FilterKey | 'view', value: string) => void;
  onClear: () => void;
  active: boolean;
}

export function ModelFilters({ filters, view, options, onChange, onClear, active }: Props) {
  return (
    <search className="toolbar" aria-label="Filter models">
      <label>
        Name
        <input type="search" value={filters.name} placeholder="part of a name" onChange={(e) => onChange('name', e.target.value)} />
      </label>
      <FilterSelect label="Status" value={filters.status} values={STATES} onChange={(v) => onChange('status', v)} />
      <FilterSelect label="Format" value={filters.format} values={options.formats} onChange={(v) => onChange('format', v)} />
      <FilterSelect label="Backend" value={filters.backend} values={options.backends} onChange={(v) => onChange('backend', v)} />
      <FilterSelect label="Tag" value={filters.tag} values={options.tags} onChange={(v) => onChange('tag', v)} />
      {active ? (
        <button type="button" className="secondary" onClick={onClear}>
          Clear filters
        </button>
      ) : null}
      <fieldset className="view-switch">
        <legend>View</legend>
        {(['grid', 'table'] as const).map((value) => (
          <button
            key={value}
            type="button"
            className={view === value ? undefined : 'secondary'}
            aria-pressed={view === value}
            onClick={() => onChange('view', value === 'grid' ? '' : value)}
          >
            {value === 'grid' ? 'Cards' : 'Table'}
          </button>
        ))}
      </fieldset>
    </search>
  );
}

function FilterSelect(props: { label: string; value: string; values: string[]; onChange: (value: string) => void }) {
  // The URL's value stays selectable before the data that lists it has arrived.
  const values = props.value && !props.values.includes(props.value) ? [props.value, ...props.values] : props.values;
  return (
    <label>
      {props.label}
      <select value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        <option value="">any</option>
        {values.map((value) => (
          <option key={value} value={value}>
            {value}
          </option>
        ))}
      </select>
    </label>
  );
}
