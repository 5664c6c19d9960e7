// One input per tenant quota (empty means unlimited), shared by the create and the edit form, with each field's error beside it.
import { QUOTAS, type QuotaDrafts, type QuotaErrors, type QuotaName } from './tenantQuotas.ts';

interface Props {
  drafts: QuotaDrafts;
  errors: QuotaErrors;
  onDraft: (name: QuotaName, text: string) => void;
}

export function QuotaFields({ drafts, errors, onDraft }: Props) {
  return (
    <fieldset className="quota-fields">
      <legend>Quotas (leave empty for unlimited)</legend>
      {QUOTAS.map((def) => (
        <label key={def.name}>
          {def.label}
          <input
            // Sizes take a unit ("20 GiB"); the rest are whole numbers.
            inputMode={def.kind === 'bytes' ? 'text' : 'numeric'}
            placeholder={def.kind === 'bytes' ? 'e.g. 20 GiB' : UNLIMITED_HINT}
            value={drafts[def.name] ?? ''}
            onChange={(e) => onDraft(def.name, e.target.value)}
            aria-invalid={errors[def.name] ? true : undefined}
          />
          {errors[def.name] ? <span className="error field-error">{errors[def.name]}</span> : null}
        </label>
      ))}
    </fieldset>
  );
}

const UNLIMITED_HINT = 'unlimited';
