// The model-shape types: the facts a GGUF header or a config.json states, and the shape the memory model sizes a load by.

/**
 * How a model's weights are stored: a GGUF file (llama.cpp), an ONNX graph with a transformers config.json,
 * `ollama` — held by an external Ollama server (OLLAMA_BASE_URL), with no local files at all — or safetensors:
 * `safetensors` (a transformers folder: config.json + *.safetensors) and `diffusers` (a pipeline: model_index.json and
 * component folders), which Hangar catalogues, downloads, checks and sizes but no backend of it serves.
 * The API's format union and the backend table derive from this list.
 */
export const MODEL_FORMATS = ['onnx', 'gguf', 'ollama', 'safetensors', 'diffusers'] as const;

/** Formats whose versions have no files in Hangar's store (an external server holds the weights). */
export const FILELESS_FORMATS: ReadonlySet<string> = new Set(['ollama']);
export type ModelFormat = (typeof MODEL_FORMATS)[number];

/** Architecture numbers both readers find (null when the model does not state them). */
export interface ArchitectureNumbers {
  layerCount: number | null;
  /** Hidden size (the output size of an embedding model). */
  embeddingLength: number | null;
  headCount: number | null;
  /** Key/value heads (grouped-query attention); the head count when the model states none. */
  headCountKv: number | null;
  /** Trained context (GGUF `<arch>.context_length`, config `max_position_embeddings`). */
  contextLength: number | null;
  vocabSize: number | null;
  /** Feed-forward width; when unknown, the memory model takes 4 x embeddingLength. */
  feedForwardLength?: number | null;
  /** Width of one attention head when the model states it (GGUF `attention.key_length`, config `head_dim`); else embeddingLength / headCount. */
  headDim?: number | null;
}

/** What a model says about itself, from either reader. */
export interface ModelFacts extends ArchitectureNumbers {
  /** GGUF `general.architecture`, config `model_type` (or its first `architectures` entry). */
  architecture: string | null;
}

/** What the memory model needs to know about a model; read from a GGUF header or a config.json, so it works before download. */
export interface ModelShape extends ArchitectureNumbers {
  format: ModelFormat;
  /** Bytes of the weights (GGUF: tensor data; ONNX: the .onnx file and its external data). */
  weightsBytes: number;
  quantization: string | null;
  /** GGUF: bytes of the weights llama.cpp's CPU backend repacks into a second, interleaved copy (see cpu-weight-copies.ts). */
  repackedBytes?: number;
  /** safetensors/diffusers: bytes per element of the weights' main dtype (the KV cache is held in it). */
  elementBytes?: number;
  /** diffusers: each component's weights and its role in the pipeline (which are resident at once). */
  components?: ShapeComponent[];
}

/** A diffusers component as the memory model sees it. */
export interface ShapeComponent {
  name: string;
  /** `denoiser` (transformer/unet), `vae`, `text_encoder` (also text_encoder_2…), or `other`. */
  role: 'denoiser' | 'vae' | 'text_encoder' | 'other';
  weightsBytes: number;
}

/**
 * A number from a header or config value; null for anything else. Some architectures give a per-layer array
 * (head counts, FFN widths): the widest layer decides the buffers, so an array reads as its largest entry.
 */
export function factNumber(value: unknown): number | null {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (Array.isArray(value)) {
    const numbers = value.map(factNumber).filter((v): v is number => v !== null);
    return numbers.length > 0 ? Math.max(...numbers) : null;
  }
  return null;
}

/** Just the architecture numbers of a reader's facts (what a ModelShape carries besides format, weights and quantization). */
export function architectureNumbers(facts: ArchitectureNumbers): ArchitectureNumbers {
  return {
    layerCount: facts.layerCount,
    embeddingLength: facts.embeddingLength,
    headCount: facts.headCount,
    headCountKv: facts.headCountKv,
    contextLength: facts.contextLength,
    vocabSize: facts.vocabSize,
    feedForwardLength: facts.feedForwardLength,
    headDim: facts.headDim,
  };
}

/** The facts as the API names them (snake_case), for the replies and stored metadata that show them. */
export function wireFacts(facts: ModelFacts) {
  return {
    architecture: facts.architecture,
    context_length: facts.contextLength,
    embedding_length: facts.embeddingLength,
    layer_count: facts.layerCount,
    head_count: facts.headCount,
    head_count_kv: facts.headCountKv,
    vocab_size: facts.vocabSize,
  };
}
