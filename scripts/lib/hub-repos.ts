// Fixture repositories for the local test hub: a tiny ONNX BERT embedding repo and a tiny llama GGUF repo in three quantizations.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeTinyBertModel } from './bert-onnx-writer.ts';
import type { HubFileSpec, HubRepoSpec } from './hub-store.ts';
import { writeTinyLlamaGguf } from './llama-gguf-writer.ts';

export const FIXTURE_BERT_REPO = 'hangar-test/tiny-bert-onnx';
export const FIXTURE_GGUF_REPO = 'hangar-test/tiny-llama-gguf';
export const FIXTURE_GGUF_FILES = ['tiny-llama.F16.gguf', 'tiny-llama.Q8_0.gguf', 'tiny-llama.Q4_0.gguf'] as const;

/** A trimmed version of the .gitattributes every hub repository starts with. */
const GITATTRIBUTES = ['*.bin', '*.gguf', '*.onnx', '*.onnx_data', '*.pt', '*.safetensors']
  .map((p) => `${p} filter=lfs diff=lfs merge=lfs -text\n`)
  .join('');

const readme = (frontMatter: string[], title: string, body: string): string =>
  `---\n${frontMatter.join('\n')}\n---\n\n# ${title}\n\n${body}\n`;

/** Every file under `dir` as a streamed hub file, with '/'-separated repo paths, sorted. */
export async function folderFiles(dir: string): Promise<HubFileSpec[]> {
  const out: HubFileSpec[] = [];
  const walk = async (sub: string): Promise<void> => {
    for (const entry of await readdir(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (entry.name !== '.git') await walk(rel);
      } else if (entry.isFile()) {
        out.push({ path: rel, file: path.resolve(dir, rel) });
      }
    }
  };
  await walk('');
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Reads `license`, `library_name`, `pipeline_tag` and `tags` from a README's YAML front matter (simple keys and `- item` lists only). */
export function parseModelCard(text: string): { license?: string; libraryName?: string; pipelineTag?: string; tags?: string[] } {
  const m = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  if (!m) return {};
  const values = new Map<string, string | string[]>();
  let listKey: string | undefined;
  for (const line of m[1].split(/\r?\n/)) {
    const item = /^\s*-\s+(.+)$/.exec(line);
    const kv = /^([\w-]+):\s*(.*)$/.exec(line);
    if (item && listKey) {
      const list = values.get(listKey);
      values.set(listKey, [...(Array.isArray(list) ? list : []), item[1].trim()]);
    } else if (kv) {
      listKey = kv[2] === '' ? kv[1] : undefined;
      values.set(kv[1], kv[2] === '' ? [] : kv[2].trim().replace(/^["']|["']$/g, ''));
    }
  }
  const str = (k: string): string | undefined => {
    const v = values.get(k);
    return typeof v === 'string' ? v : undefined;
  };
  const tags = values.get('tags');
  return {
    ...(str('license') ? { license: str('license') } : {}),
    ...(str('library_name') ? { libraryName: str('library_name') } : {}),
    ...(str('pipeline_tag') ? { pipelineTag: str('pipeline_tag') } : {}),
    ...(Array.isArray(tags) ? { tags } : typeof tags === 'string' ? { tags: [tags] } : {}),
  };
}

/** The hub's `config` field: architectures and model_type from config.json plus the tokenizer's special tokens. */
async function hubConfig(dir: string): Promise<Record<string, unknown> | undefined> {
  const json = async (name: string): Promise<Record<string, unknown> | undefined> =>
    existsSync(path.join(dir, name)) ? (JSON.parse(await readFile(path.join(dir, name), 'utf8')) as Record<string, unknown>) : undefined;
  const config = await json('config.json');
  if (!config) return undefined;
  const tok = await json('tokenizer_config.json');
  const specials = ['bos_token', 'cls_token', 'eos_token', 'mask_token', 'pad_token', 'sep_token', 'unk_token'];
  return {
    ...(config.architectures ? { architectures: config.architectures } : {}),
    ...(config.model_type ? { model_type: config.model_type } : {}),
    ...(tok ? { tokenizer_config: Object.fromEntries(specials.filter((k) => typeof tok[k] === 'string').map((k) => [k, tok[k]])) } : {}),
  };
}

/** A repo spec for a folder on disk: every file streamed, metadata from README.md front matter and config.json. */
export async function repoFromFolder(id: string, dir: string, extra: Partial<HubRepoSpec> = {}): Promise<HubRepoSpec> {
  const readmePath = path.join(dir, 'README.md');
  const card = existsSync(readmePath) ? parseModelCard(await readFile(readmePath, 'utf8')) : {};
  const config = await hubConfig(dir);
  return { id, files: await folderFiles(dir), ...card, ...(config ? { config } : {}), ...extra };
}

/** Generates a folder once: into a temporary sibling, then renamed into place, so a half-written folder is never reused. */
async function ensureFolder(dir: string, generate: (tmp: string) => Promise<void>): Promise<void> {
  if (existsSync(path.join(dir, 'README.md'))) return;
  await mkdir(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await generate(tmp);
  await rm(dir, { recursive: true, force: true });
  try {
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(path.join(dir, 'README.md'))) throw err;
  }
}

/**
 * Writes (or reuses) the fixture repositories under `dir/<org>/<name>/` and returns their specs, files streamed from disk.
 * Deterministic: the weights are seeded (the demo models' settings), so the bytes, hashes and commit shas never change.
 */
export async function makeHubFixtureRepos(dir: string): Promise<HubRepoSpec[]> {
  const bertDir = path.join(dir, ...FIXTURE_BERT_REPO.split('/'));
  await ensureFolder(bertDir, async (tmp) => {
    await writeTinyBertModel(tmp, { hiddenSize: 32, numLayers: 1, seed: 11 });
    await writeFile(path.join(tmp, '.gitattributes'), GITATTRIBUTES);
    const front = [
      'license: apache-2.0',
      'library_name: transformers.js',
      'pipeline_tag: feature-extraction',
      'tags:',
      '- transformers.js',
      '- onnx',
      '- bert',
      '- feature-extraction',
    ];
    await writeFile(
      path.join(tmp, 'README.md'),
      readme(
        front,
        'tiny-bert-onnx',
        'A tiny BERT-layout ONNX embedding model with random weights (hidden size 32), generated for Hangar tests.',
      ),
    );
  });

  const ggufDir = path.join(dir, ...FIXTURE_GGUF_REPO.split('/'));
  await ensureFolder(ggufDir, async (tmp) => {
    const types = ['F16', 'Q8_0', 'Q4_0'] as const;
    for (const type of types) await writeTinyLlamaGguf(path.join(tmp, `tiny-llama.${type}.gguf`), { type, seed: 21, name: 'tiny-llama' });
    await writeFile(path.join(tmp, '.gitattributes'), GITATTRIBUTES);
    const front = ['license: mit', 'pipeline_tag: text-generation', 'tags:', '- gguf', '- llama', '- text-generation'];
    const body = `A tiny llama-architecture model with random weights (it writes gibberish), in three quantizations:\n\n${FIXTURE_GGUF_FILES.map((f) => `- ${f}`).join('\n')}`;
    await writeFile(path.join(tmp, 'README.md'), readme(front, 'tiny-llama-gguf', body));
  });

  return [
    await repoFromFolder(FIXTURE_BERT_REPO, bertDir, {
      libraryName: 'transformers.js',
      pipelineTag: 'feature-extraction',
      license: 'apache-2.0',
    }),
    await repoFromFolder(FIXTURE_GGUF_REPO, ggufDir, { pipelineTag: 'text-generation', license: 'mit' }),
  ];
}
