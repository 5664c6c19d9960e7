// One setting: its name, an input of its type (admins) or its value, where the value came from, restart marker and errors.
import type { ConfigField } from './configFields.ts';
import { showValue } from './configFields.ts';

interface SettingRowProps {
  field: ConfigField;
  editable: boolean;
  draft: string | boolean | undefined;
  error: string | undefined;
  onDraft: (value: string | boolean) => void;
}

export function SettingRow({ field, editable, draft, error, onDraft }: SettingRowProps) {
  const id = `setting-${field.path.replace(/\./g, '-')}`;
  const described = [`${id}-help`, error ? `${id}-error` : ''].filter(Boolean).join(' ');
  const current = showValue(field.value);
  return (
    <tr className={error ? 'invalid' : draft !== undefined ? 'changed' : undefined} data-setting={field.path}>
      <th scope="row">
        {editable ? (
          <label htmlFor={id}>
            <code>{field.path}</code>
          </label>
        ) : (
          <code>{field.path}</code>
        )}
      </th>
      <td>
        {editable ? (
          <SettingInput id={id} field={field} draft={draft} described={described} onDraft={onDraft} />
        ) : (
          <span className="setting-value">{current === '' ? <span className="muted">(empty)</span> : current}</span>
        )}
        {error ? (
          <p id={`${id}-error`} className="error field-error" role="alert">
            {error}
          </p>
        ) : null}
      </td>
      <td>
        <span className={`badge source-${field.source}`} title="Where this value comes from">
          {field.source}
        </span>
        {field.restartRequired ? (
          <span className="badge restart" title="Read only at start-up: a change applies after a restart">
            restart required
          </span>
        ) : null}
      </td>
      <td id={`${id}-help`} className="muted setting-help">
        {field.description}
      </td>
    </tr>
  );
}

interface SettingInputProps {
  id: string;
  field: ConfigField;
  draft: string | boolean | undefined;
  described: string;
  onDraft: (value: string | boolean) => void;
}

function SettingInput({ id, field, draft, described, onDraft }: SettingInputProps) {
  const common = { id, 'aria-describedby': described, 'aria-invalid': described.includes('-error') || undefined };
  if (field.kind === 'boolean')
    return (
      <input
        type="checkbox"
        {...common}
        checked={draft === undefined ? field.value === true : draft === true}
        onChange={(e) => onDraft(e.target.checked)}
      />
    );
  const text = typeof draft === 'string' ? draft : field.secret ? '' : showValue(field.value);
  if (field.kind === 'enum')
    return (
      <select {...common} value={text} onChange={(e) => onDraft(e.target.value)}>
        {field.options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    );
  return (
    <input
      {...common}
      type={field.secret ? 'password' : 'text'}
      inputMode={field.kind === 'string' ? undefined : 'decimal'}
      autoComplete="off"
      placeholder={field.secret ? (field.value ? '(set, hidden)' : '(empty)') : undefined}
      value={text}
      onChange={(e) => onDraft(e.target.value)}
    />
  );
}
