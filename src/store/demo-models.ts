// On first start with an empty catalog, generates and imports the four tiny demo models.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ModelCatalog } from '../registry/catalog.ts';
import type { BlobStore } from './blob-store.ts';
import { SYSTEM_ACTOR } from '../registry/audit.ts';
import type { TinyBertOptions } from '../tiny-models/bert-graph.ts';
import type { TinyLlamaOptions } from '../tiny-models/llama-gguf.ts';

export type DemoModelSpec =
  | { name: string; kind: 'onnx-embedding'; description: string; options: TinyBertOptions }
  | { name: string; kind: 'gguf-llama'; description: string; options: TinyLlamaOptions };

/** The demo set: tiny generated models with random weights, for trying Hangar without downloading anything. */
export const DEMO_MODELS: DemoModelSpec[] = [
  {
    name: 'demo-embed-small',
    kind: 'onnx-embedding',
    description: 'Tiny generated BERT-layout ONNX embedding model (hidden size 32, random weights) for trying Hangar.',
    options: { hiddenSize: 32, numLayers: 1, seed: 11 },
  },
  {
    name: 'demo-embed-base',
    kind: 'onnx-embedding',
    description: 'Tiny generated BERT-layout ONNX embedding model (hidden size 64, 2 layers, random weights) for trying Hangar.',
    options: { hiddenSize: 64, numLayers: 2, seed: 12 },
  },
  {
    name: 'demo-llama',
    kind: 'gguf-llama',
    description: 'Tiny generated llama-architecture GGUF (F16, random weights: it writes gibberish) for trying Hangar.',
    options: { type: 'F16', seed: 21, name: 'demo-llama' },
  },
  {
    name: 'demo-llama-q8',
    kind: 'gguf-llama',
    description: 'The same tiny llama model quantized to Q8_0, for trying Hangar.',
    options: { type: 'Q8_0', seed: 21, name: 'demo-llama-q8' },
  },
];

const MARKER_FILE = 'demo-models.json';

/** Writes one demo model under `dir`; returns the path to import (folder or .gguf file). */
export async function generateDemoModel(spec: DemoModelSpec, dir: string): Promise<string> {
  // The generators are imported here, not at the top: a server whose catalog is not empty never needs them.
  if (spec.kind === 'onnx-embedding') {
    const { writeTinyBertModel } = await import('../tiny-models/bert-model.ts');
    const folder = path.join(dir, spec.name);
    await writeTinyBertModel(folder, spec.options);
    return folder;
  }
  const { writeTinyLlamaGguf } = await import('../tiny-models/llama-gguf.ts');
  const file = path.join(dir, `${spec.name}.gguf`);
  await writeTinyLlamaGguf(file, spec.options);
  return file;
}

/**
 * Imports the demo set once: only when the catalog is empty and it was never done for this store,
 * so a user who deletes the demos does not get them back at the next start.
 */
export async function importDemoModelsOnFirstStart(catalog: ModelCatalog, store: BlobStore, logger: Logger): Promise<boolean> {
  const marker = path.join(store.root, MARKER_FILE);
  if (fs.existsSync(marker) || (await catalog.countModels()) > 0) return false;
  const started = Date.now();
  const workDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'hangar-demo-'));
  try {
    for (const spec of DEMO_MODELS) {
      const source = await generateDemoModel(spec, workDir);
      await catalog.importVersion(
        {
          name: spec.name,
          path: source,
          description: spec.description,
          tags: ['demo'],
          metadata: { demo: true },
          source: { kind: 'generated', generator: spec.kind, options: spec.options },
        },
        { actor: SYSTEM_ACTOR },
      );
    }
    await fsp.writeFile(
      marker,
      `${JSON.stringify({ imported_at: new Date().toISOString(), models: DEMO_MODELS.map((d) => d.name) }, null, 2)}\n`,
    );
    logger.info({ models: DEMO_MODELS.map((d) => d.name), ms: Date.now() - started }, 'imported demo models');
    return true;
  } finally {
    await fsp.rm(workDir, { recursive: true, force: true });
  }
}
