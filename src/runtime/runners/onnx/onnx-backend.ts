// ONNX embedding backend: a transformers.js feature-extraction pipeline over a local Hugging Face folder, micro-batched.
import path from 'node:path';
import { env, pipeline, type DataType, type FeatureExtractionPipeline, type Tensor } from '@huggingface/transformers';
import type { LoadCommand } from '../../protocol.ts';
import { BackendError, installedPackageVersion, type EmbedOutput, type RunnerBackend } from '../runner-backend.ts';
import { EmbeddingBatcher } from './embedding-batcher.ts';
import { lengthGroups } from './length-groups.ts';
import { modelFilePathCache } from './model-file-paths.ts';
import { meanPooledNormalized, paddedInputs, type Encodings, type Padding } from './pooled-embeddings.ts';

/** One input's embedding and how many tokens it took. */
interface EmbeddedInput {
  vector: number[];
  tokens: number;
}

// transformers.js appends these to `model_file_name` per dtype (its DEFAULT_DTYPE_SUFFIX_MAPPING, not exported).
const DTYPE_FILE_SUFFIX = {
  fp32: '',
  fp16: '_fp16',
  int8: '_int8',
  uint8: '_uint8',
  q8: '_quantized',
  q4: '_q4',
  q2: '_q2',
  q1: '_q1',
  q4f16: '_q4f16',
  q2f16: '_q2f16',
  q1f16: '_q1f16',
  bnb4: '_bnb4',
} as const satisfies Record<Exclude<DataType, 'auto'>, string>;
type FileDtype = keyof typeof DTYPE_FILE_SUFFIX;

function isFileDtype(value: string): value is FileDtype {
  return Object.hasOwn(DTYPE_FILE_SUFFIX, value);
}

/** Loads the pipeline the command names; rejects with transformers.js' own reason. */
/** Importing this module already loads transformers.js and onnxruntime (the slow part of a cold start); nothing more to warm. */
export function prewarm(): Promise<unknown> {
  return Promise.resolve();
}

export async function loadOnnxBackend(command: LoadCommand): Promise<RunnerBackend> {
  if (command.device === 'gpu') throw new Error('onnx runner: onnxruntime-node here is a CPU build; load this model with device "cpu"');
  const dtype = command.dtype ?? 'fp32';
  if (!isFileDtype(dtype)) throw new Error(`onnx runner: unknown dtype "${dtype}" (known: ${Object.keys(DTYPE_FILE_SUFFIX).join(', ')})`);
  env.allowRemoteModels = false;
  env.useFSCache = false;
  env.useCustomCache = true;
  env.customCache = modelFilePathCache();
  env.localModelPath = path.dirname(path.resolve(command.modelDir));
  const extractor = await pipeline('feature-extraction', path.basename(path.resolve(command.modelDir)), {
    ...entryFileOptions(command.entry, dtype),
    dtype,
    local_files_only: true,
    // Without this onnxruntime starts one intra-op thread per core, whatever share of the machine the server gave us.
    session_options: { intraOpNumThreads: command.threads, interOpNumThreads: 1 },
  });
  const runtime = `onnxruntime-node ${await installedPackageVersion('onnxruntime-node')} (transformers.js ${env.version})`;
  return new OnnxBackend(extractor, command, runtime, await probeEmbeddingLength(extractor));
}

/** Maps `onnx/model_fp16.onnx` + dtype fp16 to transformers.js' subfolder + model_file_name, so it opens exactly the entry file. */
function entryFileOptions(entry: string, dtype: FileDtype): { subfolder: string; model_file_name: string } {
  const suffix: string = DTYPE_FILE_SUFFIX[dtype];
  const stem = path.posix.basename(entry, '.onnx');
  if (!entry.endsWith('.onnx') || !stem.endsWith(suffix)) {
    throw new Error(`onnx runner: entry "${entry}" does not match dtype ${dtype} (expected a file named *${suffix}.onnx)`);
  }
  const subfolder = path.posix.dirname(entry);
  return { subfolder: subfolder === '.' ? '' : subfolder, model_file_name: stem.slice(0, stem.length - suffix.length) };
}

async function probeEmbeddingLength(extractor: FeatureExtractionPipeline): Promise<number> {
  const probe = await extractor('probe', { pooling: 'mean', normalize: true });
  const width = probe.dims.at(-1);
  if (width === undefined) throw new Error('onnx runner: the probe embedding has no dimensions');
  return width;
}

class OnnxBackend implements RunnerBackend {
  readonly info: RunnerBackend['info'];
  readonly #extractor: FeatureExtractionPipeline;
  readonly #batcher: EmbeddingBatcher<string, EmbeddedInput>;
  readonly #padding: Padding;

  constructor(extractor: FeatureExtractionPipeline, command: LoadCommand, runtime: string, embeddingLength: number) {
    this.#extractor = extractor;
    const tokenizer = extractor.tokenizer as unknown as { pad_token_id?: unknown; padding_side?: unknown };
    this.#padding = {
      padTokenId: typeof tokenizer.pad_token_id === 'number' ? tokenizer.pad_token_id : 0,
      side: tokenizer.padding_side === 'left' ? 'left' : 'right',
    };
    this.#batcher = new EmbeddingBatcher((inputs) => this.#embedBatch(inputs), {
      maxBatchSize: command.maxBatchSize,
      maxBatchWaitMs: command.maxBatchWaitMs,
    });
    this.info = { device: 'cpu', accelerator: 'cpu', embeddingLength, contextSize: null, capabilities: ['embed'], runtime };
  }

  async embed(inputs: string[], options: { truncate: boolean }): Promise<EmbedOutput> {
    if (inputs.length === 0) throw new BackendError('invalid_input', 'inputs must hold at least one string');
    // The pipeline always cuts inputs to the tokenizer's model_max_length; refusing instead is checked here.
    if (!options.truncate) this.#assertFit(inputs);
    const { outputs, batchSize } = await this.#batcher.submit(inputs);
    return {
      embeddings: outputs.map((output) => output.vector),
      tokens: outputs.reduce((sum, output) => sum + output.tokens, 0),
      batchSize,
    };
  }

  /** The batch tokenized once, in groups of similar length (little padding), one model call each; outputs in input order. */
  async #embedBatch(inputs: string[]): Promise<EmbeddedInput[]> {
    const encodings = this.#extractor.tokenizer(inputs, { padding: false, truncation: true, return_tensor: false }) as unknown as Encodings;
    const tokens = (encodings.input_ids ?? []).map((ids) => ids.length);
    const outputs = new Array<EmbeddedInput>(inputs.length);
    for (const group of lengthGroups(tokens)) {
      const vectors = await this.#embedGroup(encodings, group);
      for (const [position, index] of group.entries()) {
        outputs[index] = { vector: Array.from(vectors[position] ?? []), tokens: tokens[index] ?? 0 };
      }
    }
    return outputs;
  }

  /** One model call on a group padded to its longest input; mean-pooled over the attention mask and L2-normalised. */
  async #embedGroup(encodings: Encodings, group: number[]): Promise<Float32Array[]> {
    const inputs = paddedInputs(encodings, group, this.#padding);
    const outputs = (await this.#extractor.model(inputs)) as Record<string, Tensor | undefined>;
    // The pipeline's choice of output, in its order.
    const hidden = outputs.last_hidden_state ?? outputs.logits ?? outputs.token_embeddings;
    const mask = inputs.attention_mask;
    if (!hidden || !mask || hidden.dims.length !== 3 || hidden.dims[0] !== group.length || !(hidden.data instanceof Float32Array)) {
      throw new Error(
        `onnx runner: the model's output is not float32 [${group.length}, tokens, width] hidden states with an attention mask`,
      );
    }
    return meanPooledNormalized({ data: hidden.data, dims: hidden.dims }, mask);
  }

  /** Refuses (context_overflow) the first input longer than the model takes, naming its index and token counts. */
  #assertFit(inputs: string[]): void {
    const limit = this.#maxInputTokens();
    if (!Number.isFinite(limit)) return;
    const encoded = this.#extractor.tokenizer(inputs, { padding: false, truncation: false, return_tensor: false });
    for (const [index, ids] of encoded.input_ids.entries()) {
      if (ids.length > limit) {
        throw new BackendError(
          'context_overflow',
          `input ${index} has ${ids.length} tokens, more than the ${limit} this model takes; send truncate: true to cut it to fit`,
        );
      }
    }
  }

  /** The longest input the pipeline passes on uncut: the tokenizer's model_max_length, else the model's positions. */
  #maxInputTokens(): number {
    const fromTokenizer = Number(this.#extractor.tokenizer.model_max_length);
    if (Number.isFinite(fromTokenizer) && fromTokenizer > 0) return fromTokenizer;
    const positions = (this.#extractor.model.config as { max_position_embeddings?: unknown }).max_position_embeddings;
    return typeof positions === 'number' && positions > 0 ? positions : Number.POSITIVE_INFINITY;
  }

  async memory(): Promise<{ rssBytes: number }> {
    return { rssBytes: process.memoryUsage().rss };
  }

  async dispose(): Promise<void> {
    await this.#extractor.dispose();
  }
}
