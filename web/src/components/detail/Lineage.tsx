// Where a version came from: hub repo and commit, a local path, a copy of another version, an Ollama server, plus any extra lineage.
import type { VersionInfo } from '../../../../src/schemas/models.ts';

/** Source keys shown in the headline; any other key (run_id, source_uri, …) is listed under it. */
const HEADLINE_KEYS = new Set([
  'kind',
  'repo_id',
  'revision',
  'commit_sha',
  'variant',
  'endpoint',
  'path',
  'server',
  'name',
  'digest',
  'generator',
  'options',
  'copied_from',
  'from',
  'type',
  'tool',
]);

const text = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value));

function headline(source: VersionInfo['source']): string {
  const s = (key: string) => (source[key] == null ? '' : text(source[key]));
  switch (source.kind) {
    case 'hub':
      return `Hub ${s('repo_id')}${source.revision ? ` @ ${s('revision')}` : ''}${source.commit_sha ? `, commit ${s('commit_sha').slice(0, 12)}` : ''}${source.variant ? `, variant ${s('variant')}` : ''}`;
    case 'local':
      return `Local path ${s('path')}`;
    case 'ollama':
      return `Ollama server ${s('server')}, ${s('name')}${source.digest ? ` (${s('digest').slice(0, 19)})` : ''}`;
    case 'generated':
      return `Generated (${s('generator')})`;
    case 'quantized': {
      const from = (source.from ?? {}) as Record<string, unknown>;
      const origin = from.repo_id ? `hub ${text(from.repo_id)}` : `${text(from.model)} v${text(from.version)}`;
      return `Quantized to ${s('type')} from ${origin} by ${s('tool')}`;
    }
    default:
      return source.kind == null ? 'Unknown source' : s('kind');
  }
}

export function Lineage({ source }: { source: VersionInfo['source'] }) {
  const extra = Object.entries(source).filter(([key]) => !HEADLINE_KEYS.has(key));
  return (
    <div className="lineage">
      <span>{headline(source)}</span>
      {source.copied_from ? <span className="muted"> · copied from {text(source.copied_from)}</span> : null}
      {extra.length > 0 ? (
        <ul className="plain">
          {extra.map(([key, value]) => (
            <li key={key}>
              <span className="muted">{key}:</span> {text(value)}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
