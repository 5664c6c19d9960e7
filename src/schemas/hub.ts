// Schemas of the hub routes: model info with variants, download requests and background jobs.
import { Type, type Static } from 'typebox';
import { ModelNameString, Nullable } from './common.ts';
import { QuantizationName, ResourceId, Revision } from './names.ts';

const N = (description: string) => Nullable(Type.Number({ description }));

export const RepoIdParams = Type.Object({
  repo_id: Type.String({ minLength: 1, maxLength: 96, description: 'Hub repo id, `org/name` (`/` may be sent as is or as %2F).' }),
});

export const RevisionQuery = Type.Object({
  revision: Type.Optional(Revision('Branch, tag or commit (default main).')),
});

/** The formats a hub repo's variant can be in. */
const HubFormat = Type.Union([Type.Literal('gguf'), Type.Literal('onnx'), Type.Literal('safetensors'), Type.Literal('diffusers')]);

export const Variant = Type.Object({
  id: Type.String({
    description:
      'What to pass as `variant`: GGUF quantization (Q4_K_M, Q8_0, F16…), ONNX dtype (fp32, fp16, q8, q4…), or the file-name variant of safetensors weights (`default` for untagged files, fp16, bf16…).',
  }),
  format: HubFormat,
  quantization: Type.String({ description: 'Recorded on the version; for ONNX the transformers.js dtype the runner loads.' }),
  bits: N('Bits per weight, roughly.'),
  full_precision: Type.Boolean(),
  weight_files: Type.Array(Type.String()),
  files: Type.Array(Type.String(), { description: 'Everything a download of this variant fetches.' }),
  size_bytes: Type.Integer(),
  entry: Type.String({ description: 'The file the runtime opens.' }),
  default: Type.Boolean({ description: 'Downloaded when no variant is named.' }),
  required_files: Type.Optional(
    Type.Array(Type.String(), {
      description: 'Files the format cannot do without: always downloaded, whatever `allow` and `ignore` say.',
    }),
  ),
  components: Type.Optional(
    Type.Array(Type.Object({ name: Type.String(), weight_files: Type.Array(Type.String()) }), {
      description:
        'diffusers: each component and the weight files it takes in this variant (its own file of that variant, else its untagged one).',
    }),
  ),
});
export type Variant = Static<typeof Variant>;

const ByDtype = Type.Record(Type.String(), Type.Integer());
const WeightFacts = {
  parameter_count: Type.Integer(),
  parameters_by_dtype: ByDtype,
  bytes_by_dtype: ByDtype,
  weights_bytes: Type.Integer(),
  tensor_count: Type.Integer(),
  dtypes: Type.Array(Type.String()),
};

/** safetensors and diffusers repos: what their headers say (read by Range requests, before any download). */
export const SafetensorsInfo = Type.Object({
  variant: Type.String({ description: 'The default variant these facts describe.' }),
  ...WeightFacts,
  components: Type.Array(
    Type.Object({
      name: Type.String({ description: '`model` for a transformers folder; the component folder of a pipeline.' }),
      library: Nullable(Type.String()),
      class_name: Nullable(Type.String()),
      architecture: Nullable(Type.String()),
      config: Nullable(Type.String()),
      files: Type.Array(Type.String()),
      ...WeightFacts,
    }),
  ),
  variants: Type.Array(Type.Object({ id: Type.String(), ...WeightFacts }), { description: "Every variant with its headers' facts." }),
});
export type SafetensorsInfo = Static<typeof SafetensorsInfo>;

export const HubModelInfo = Type.Object({
  repo_id: Type.String(),
  revision: Type.String(),
  commit_sha: Type.String(),
  format: Nullable(HubFormat),
  architecture: Nullable(Type.String()),
  parameter_count: N('Weights in the model.'),
  parameter_count_source: Nullable(
    Type.String({ description: 'gguf_header, fp32_file_size for ONNX, or safetensors_header (safetensors, diffusers).' }),
  ),
  context_length: N('Trained context (tokens).'),
  embedding_length: N('Hidden size.'),
  layer_count: N('Transformer blocks.'),
  head_count: N('Attention heads.'),
  head_count_kv: N('Key/value heads (grouped-query attention).'),
  vocab_size: N('Tokens in the vocabulary.'),
  license: Nullable(Type.String()),
  pipeline_tag: Nullable(Type.String()),
  library_name: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
  private: Type.Boolean(),
  gated: Type.Boolean(),
  last_modified: Nullable(Type.String()),
  total_size_bytes: Type.Integer(),
  files: Type.Array(Type.Object({ path: Type.String(), size_bytes: Type.Integer(), sha256: Nullable(Type.String()), lfs: Type.Boolean() })),
  variants: Type.Array(Variant),
  only_full_precision: Type.Boolean(),
  safetensors: Type.Optional(Nullable(SafetensorsInfo)),
  notes: Type.Array(Type.String()),
});
export type HubModelInfo = Static<typeof HubModelInfo>;

export const DownloadRequest = Type.Object(
  {
    repo_id: Type.String({ minLength: 1, maxLength: 96, description: 'Hub repo, e.g. sentence-transformers/all-MiniLM-L6-v2.' }),
    revision: Type.Optional(Revision('Branch, tag or commit; default main. The job pins the commit it resolves to.')),
    variant: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 32,
        pattern: '^[A-Za-z0-9_]+$',
        description: "Quantization or dtype from the info route; default the repo's default variant.",
      }),
    ),
    name: Type.Optional(
      ModelNameString({
        minLength: 1,
        maxLength: 160,
        description: 'Model name to create the version under (default the repo id); name:tag also sets alias tag.',
      }),
    ),
    force_redownload: Type.Optional(
      Type.Boolean({ description: 'Fetch every file again even when the store has it (replaces corrupt copies).' }),
    ),
    quantize: Type.Optional(
      QuantizationName(
        "Quantize what is downloaded (Q4_K_M, Q8_0, q4, fp16, q8…) before it becomes a version: one job, one version (the quantized one). Without `variant`, the repo's full-precision variant is fetched.",
      ),
    ),
    allow: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
        maxItems: 64,
        description:
          'Glob patterns (huggingface-cli style: `*` also crosses `/`) of further repo files to fetch besides the ones the format needs; when given, only matching companion files are fetched.',
      }),
    ),
    ignore: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
        maxItems: 64,
        description: 'Glob patterns of files to leave out; never the files the format needs (configs, weights of the variant).',
      }),
    ),
    source: Type.Optional(
      Type.Union([Type.Literal('hub'), Type.Literal('ollama')], {
        description:
          'hub (default): download repo_id from HF_ENDPOINT; ollama: pull repo_id as an Ollama library name (tinyllama, tinyllama:latest) through the first OLLAMA_BASE_URL server.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type DownloadRequest = Static<typeof DownloadRequest>;

const JobFile = Type.Object({
  path: Type.String(),
  size_bytes: Type.Integer(),
  sha256: Nullable(Type.String()),
  git_oid: Nullable(Type.String()),
  bytes_done: Type.Integer(),
  status: Type.String({
    description: 'pending, downloading, verified (hash checked), present (already in the store), quantizing or stored.',
  }),
});

export const JobInfo = Type.Object({
  id: Type.String(),
  kind: Type.String({ description: 'download, repair, ollama_pull or quantize.' }),
  status: Type.String({ description: 'queued, running, paused, completed, failed or cancelled.' }),
  repo_id: Type.String(),
  revision: Type.String(),
  commit_sha: Type.String(),
  variant: Type.String(),
  quantization: Type.String(),
  format: Type.String(),
  model: Type.String({ description: 'The model name the version is created under.' }),
  tenant: Type.String({ description: "The tenant that owns the job: its model's." }),
  force_redownload: Type.Boolean(),
  progress: Type.Object({
    bytes_done: Type.Integer(),
    bytes_total: Type.Integer(),
    percent: Type.Number(),
    bytes_fetched: Type.Integer({ description: 'Bytes received from the hub by this job (resumed bytes not counted).' }),
    retries: Type.Integer(),
    files: Type.Array(JobFile),
  }),
  speed_bps: Type.Number({ description: 'Bytes per second over the last few seconds (0 unless running).' }),
  eta_s: N('Seconds left at the current speed.'),
  quantize: Nullable(
    Type.Object(
      {
        type: Type.String({ description: 'The quantization type made (Q4_K_M, Q8_0, fp16, q8…).' }),
        source: Nullable(
          Type.String({ description: 'The source version (model:version); null when a download quantizes what it fetched.' }),
        ),
      },
      { description: 'Quantize jobs, and downloads with `quantize`: what is made from what; null for other jobs.' },
    ),
  ),
  result: Nullable(Type.Record(Type.String(), Type.Unknown())),
  error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
  created_by: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
  started_at: Nullable(Type.String()),
  finished_at: Nullable(Type.String()),
});
export type JobInfo = Static<typeof JobInfo>;
/** A job as the job store knows it: everything but the live speed_bps and eta_s, which the running download adds. */
export const JobInfoWithoutRate = Type.Omit(JobInfo, ['speed_bps', 'eta_s']);
export type JobInfoWithoutRate = Static<typeof JobInfoWithoutRate>;

/** A message of the job stream (SSE events and the WebSocket), named as seed 004 names them. */
export const JobMessage = Type.Object({
  type: Type.Union([
    Type.Literal('download_progress'),
    Type.Literal('download_completed'),
    Type.Literal('download_failed'),
    Type.Literal('download_paused'),
    Type.Literal('download_cancelled'),
  ]),
  job_id: Type.String(),
  at: Type.String(),
  job: JobInfoWithoutRate,
  speed_bps: Type.Number(),
  eta_s: Nullable(Type.Number()),
});
export type JobMessage = Static<typeof JobMessage>;

export const DownloadAccepted = Type.Object({
  job_id: Type.String(),
  status: Type.String(),
  deduplicated: Type.Boolean({ description: 'True when an identical active job was joined instead of starting another.' }),
  job: JobInfo,
});

export const JobListQuery = Type.Object({
  status: Type.Optional(Type.Union(['queued', 'running', 'paused', 'completed', 'failed', 'cancelled'].map((s) => Type.Literal(s)))),
  kind: Type.Optional(
    Type.Union([Type.Literal('download'), Type.Literal('repair'), Type.Literal('ollama_pull'), Type.Literal('quantize')]),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  before: Type.Optional(
    Type.String({
      maxLength: 40,
      description: 'Only jobs created before this time (the created_at of the last job of the previous page).',
    }),
  ),
});

export const JobIdParams = Type.Object({ id: ResourceId('Job id.') });

export const HubSearchQuery = Type.Object({
  q: Type.String({ minLength: 1, maxLength: 96, description: 'Text the repo id contains (the hub searches case-insensitively).' }),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'Most models to return.' })),
});
export type HubSearchQuery = Static<typeof HubSearchQuery>;

export const HubSearchResult = Type.Object({
  query: Type.String(),
  models: Type.Array(
    Type.Object({
      repo_id: Type.String({ description: 'What to pass to /models/info and /models/download.' }),
      pipeline_tag: Nullable(Type.String()),
      library_name: Nullable(Type.String()),
      tags: Type.Array(Type.String()),
      downloads: Type.Integer(),
      likes: Type.Integer(),
      private: Type.Boolean(),
      gated: Type.Boolean(),
      last_modified: Nullable(Type.String()),
    }),
  ),
});
export type HubSearchResult = Static<typeof HubSearchResult>;
export type DownloadAccepted = Static<typeof DownloadAccepted>;
