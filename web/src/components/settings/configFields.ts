import type { ConfigView } from '../../../../src/schemas/config.ts';

// Flattens GET /config and GET /config/schema into one row per setting (path, type, value, source), and builds merge patches.

export type FieldKind = 'boolean' | 'integer' | 'number' | 'string' | 'enum';

export interface ConfigField {
  /** `api_rate_limit`, or `runtime.keep_alive` for a grouped setting. */
  path: string;
  kind: FieldKind;
  options: string[];
  description: string;
  value: unknown;
  source: string;
  restartRequired: boolean;
  secret: boolean;
}

/** GET /config's shape as this module walks it: settings by name (groups nested) and `_meta`. */
type ConfigValues = Record<string, unknown> & { _meta: ConfigView['_meta'] };

interface JsonSchemaNode {
  type?: string;
  anyOf?: { const?: unknown }[];
  enum?: unknown[];
  description?: string;
  properties?: Record<string, JsonSchemaNode>;
}

// The settings Hangar redacts (src/config/schema.ts SECRET_SETTINGS): shown masked, changed only when typed anew.
const SECRETS = new Set(['database_url', 'hangar_admin_key', 'hf_token']);

function kindOf(node: JsonSchemaNode): { kind: FieldKind; options: string[] } {
  const consts = node.anyOf?.map((o) => o.const).filter((c) => c !== undefined) ?? node.enum ?? [];
  if (consts.length > 0) return { kind: 'enum', options: consts.map(String) };
  if (node.type === 'boolean' || node.type === 'integer' || node.type === 'number') return { kind: node.type, options: [] };
  return { kind: 'string', options: [] };
}

export function configFields(config: ConfigValues, schema: JsonSchemaNode): ConfigField[] {
  const fields: ConfigField[] = [];
  const restart = new Set(config._meta.restart_required_keys);
  const visit = (node: JsonSchemaNode, values: Record<string, unknown>, prefix: string) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (child.type === 'object' && child.properties) {
        visit(child, (values[key] ?? {}) as Record<string, unknown>, path);
        continue;
      }
      fields.push({
        path,
        ...kindOf(child),
        description: child.description ?? '',
        value: values[key],
        source: config._meta.sources[path] ?? 'default',
        restartRequired: restart.has(path),
        secret: SECRETS.has(path),
      });
    }
  };
  visit(schema, config, '');
  return fields;
}

/** The draft's text or checkbox as the JSON value the server validates (a non-number stays text, so the server names it). */
export function draftValue(field: ConfigField, draft: string | boolean): unknown {
  if (field.kind === 'boolean') return draft === true;
  if (
    (field.kind === 'integer' || field.kind === 'number') &&
    typeof draft === 'string' &&
    draft.trim() !== '' &&
    Number.isFinite(Number(draft))
  )
    return Number(draft);
  return draft;
}

/** `{runtime: {keep_alive: "10m"}, api_rate_limit: 50}` from `{"runtime.keep_alive": "10m", api_rate_limit: 50}`. */
export function mergePatch(changes: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(changes)) {
    const [group, key] = path.split('.', 2);
    if (key === undefined) patch[group] = value;
    else patch[group] = { ...((patch[group] as Record<string, unknown> | undefined) ?? {}), [key]: value };
  }
  return patch;
}

/** Per-field messages from a 400 invalid_config: `issues` are strings ("runtime.max_queue must be …") or {field, message}. */
export function fieldErrors(details: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const issues = Array.isArray(details?.issues) ? (details.issues as unknown[]) : [];
  for (const issue of issues) {
    if (typeof issue === 'string') {
      const [field, ...rest] = issue.split(' ');
      const message = rest.join(' ').replace(/^=\s*/, '');
      out[field] = out[field] ? `${out[field]}; ${message}` : message;
    } else if (issue && typeof issue === 'object' && 'field' in issue) {
      const { field, message } = issue as { field: string; message: string };
      out[field] = message;
    }
  }
  return out;
}

/** How a current value reads in a text input or a read-only cell. */
export function showValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
