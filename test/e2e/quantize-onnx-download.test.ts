// ONNX quantization through the API (q8 and fp16 versions that embed like fp32), and downloads that quantize what they fetch into one version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURE_BERT_REPO, FIXTURE_GGUF_REPO } from '../../scripts/lib/hub-repos.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { followJob, startFixtureHub, startHangarForHub } from '../helpers/hub.ts';

interface VersionBody {
  version: number;
  size_bytes: number;
  quantization: string | null;
  manifest: { entry: string; files: Array<{ path: string; sha256: string; size_bytes: number }> };
  source: { kind: string; type?: string; tool?: string; from?: Record<string, unknown> };
}

const SENTENCES = ['The cat sat on the mat.', 'Quantized weights take less memory.', 'A model registry keeps versions.', 'hello world'];

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] ?? 0) * (b[i] ?? 0);
    na += (a[i] ?? 0) ** 2;
    nb += (b[i] ?? 0) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

/** Loads that very version (a model serves one version at a time), then embeds the sentences with it. */
async function embed(server: TestServer, model: string): Promise<number[][]> {
  const loaded = await server.request('POST', `/api/v1/models/${model}/load`);
  assert.equal(loaded.status, 200, loaded.text);
  const res = await server.request<{ embeddings: number[][] }>('POST', '/api/v1/embeddings', { model, input: SENTENCES });
  assert.equal(res.status, 200, res.text);
  return res.body.embeddings;
}

async function quantizeAndWait(server: TestServer, name: string, type: string): Promise<VersionBody> {
  const accepted = await server.request<{ job_id: string }>('POST', `/api/v1/models/${name}/quantize`, { type });
  assert.equal(accepted.status, 202, accepted.text);
  const { job } = await followJob(server, accepted.body.job_id);
  assert.equal(job.status, 'completed', JSON.stringify(job.error));
  const res = await server.request<VersionBody>('GET', `/api/v1/models/${name}/versions/${job.result?.version}`);
  return res.body;
}

test('ONNX q8 and fp16 versions: transformers.js file names, shared tokenizer blobs, embeddings within cosine 0.99 of fp32', async (t) => {
  const server = await startTestServer(t, { demoModels: true });
  const original = (await server.request<VersionBody>('GET', '/api/v1/models/demo-embed-base/versions/1')).body;
  const reference = await embed(server, 'demo-embed-base:1');
  for (const [type, entry] of [
    ['q8', 'onnx/model_quantized.onnx'],
    ['fp16', 'onnx/model_fp16.onnx'],
  ] as const) {
    const made = await quantizeAndWait(server, 'demo-embed-base', type);
    assert.equal(made.quantization, type);
    assert.equal(made.manifest.entry, entry);
    assert.equal(made.source.tool, 'hangar-onnx');
    const graph = made.manifest.files.find((f) => f.path === entry);
    const fp32Graph = original.manifest.files.find((f) => f.path === original.manifest.entry);
    assert.ok(graph && fp32Graph && graph.size_bytes < fp32Graph.size_bytes, `${type} graph is smaller`);
    assert.ok(!made.manifest.files.some((f) => f.path === original.manifest.entry), 'the fp32 graph is not part of it');
    const tokenizer = (v: VersionBody) => v.manifest.files.find((f) => f.path === 'tokenizer.json')?.sha256;
    assert.equal(tokenizer(made), tokenizer(original), 'the tokenizer blob is shared');
    const vectors = await embed(server, `demo-embed-base:${made.version}`);
    const mean = vectors.reduce((sum, v, i) => sum + cosine(v, reference[i] ?? []), 0) / vectors.length;
    assert.ok(mean >= 0.99, `${type} mean cosine ${mean}`);
  }
});

test('download with quantize: one job, one quantized version, the full-precision file not kept; quantized variants refused', async (t) => {
  const hub = await startFixtureHub(t);
  const server = await startHangarForHub(t, hub);

  const refused = await server.request<{ error: { code: string } }>('POST', '/api/v1/models/download', {
    repo_id: FIXTURE_GGUF_REPO,
    variant: 'Q4_0',
    quantize: 'Q8_0',
  });
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.equal(refused.body.error.code, 'already_quantized');
  const badType = await server.request<{ error: { code: string } }>('POST', '/api/v1/models/download', {
    repo_id: FIXTURE_BERT_REPO,
    quantize: 'Q4_K_M',
  });
  assert.equal(badType.status, 400);
  assert.equal(badType.body.error.code, 'invalid_quantization_type');

  for (const [repo, type, name] of [
    [FIXTURE_GGUF_REPO, 'Q4_K_M', 'llama-q4'],
    [FIXTURE_BERT_REPO, 'q8', 'bert-q8'],
  ] as const) {
    const accepted = await server.request<{ job_id: string }>('POST', '/api/v1/models/download', { repo_id: repo, quantize: type, name });
    assert.equal(accepted.status, 202, accepted.text);
    const { job } = await followJob(server, accepted.body.job_id);
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    const model = (await server.request<{ versions: VersionBody[] }>('GET', `/api/v1/models/${name}`)).body;
    assert.equal(model.versions.length, 1, 'one version: the quantized one');
    const [version] = model.versions;
    assert.equal(version?.quantization, type);
    assert.equal(version?.source.kind, 'quantized');
    assert.equal(version?.source.from?.repo_id, repo);
    // No blob of the full-precision graph is kept: every stored blob belongs to a version.
    const blobs = fs.readdirSync(path.join(server.home, 'store', 'blobs', 'sha256'));
    const referenced = new Set<string>();
    for (const m of (await server.request<{ models: Array<{ name: string }> }>('GET', '/api/v1/models')).body.models) {
      const detail = (await server.request<{ versions: VersionBody[] }>('GET', `/api/v1/models/${m.name}`)).body;
      for (const v of detail.versions) for (const f of v.manifest.files) referenced.add(f.sha256);
    }
    assert.deepEqual(
      blobs.filter((b) => !referenced.has(b)),
      [],
    );
    const use =
      type === 'q8'
        ? await server.request('POST', '/api/v1/embeddings', { model: name, input: ['hi'] })
        : await server.request('POST', '/api/v1/generate', { model: name, prompt: 'hi', max_tokens: 3 });
    assert.equal(use.status, 200, use.text);
  }
  const leftovers = fs.readdirSync(path.join(server.home, 'store', 'downloads')).filter((f) => !f.endsWith('.json'));
  assert.deepEqual(leftovers, [], 'the downloaded full-precision files were removed');
});
