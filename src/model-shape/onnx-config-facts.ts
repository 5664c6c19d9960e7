// The one transformers config.json -> model facts reader (BERT-, llama-, GPT-2-, T5- and DistilBERT-style keys), for local and hub models.
import { architectureNumbers, factNumber, type ModelFacts, type ModelShape } from './model-shape.ts';

/** Each fact's config keys, in the order they are tried: the names transformers' model families use for it. */
const CONFIG_KEYS = {
  layerCount: ['num_hidden_layers', 'n_layer', 'n_layers', 'num_layers'],
  embeddingLength: ['hidden_size', 'd_model', 'n_embd', 'dim'],
  headCount: ['num_attention_heads', 'n_head', 'n_heads', 'num_heads'],
  headCountKv: ['num_key_value_heads', 'n_head_kv'],
  contextLength: ['max_position_embeddings', 'n_positions', 'max_seq_len'],
  vocabSize: ['vocab_size'],
  feedForwardLength: ['intermediate_size', 'ffn_dim', 'n_inner', 'hidden_dim'],
  headDim: ['head_dim'],
} as const;

/** The facts a config.json states. */
export function onnxConfigFacts(config: Record<string, unknown>): Required<ModelFacts> {
  const first = (keys: readonly string[]): number | null => {
    for (const key of keys) {
      const value = factNumber(config[key]);
      if (value !== null) return value;
    }
    return null;
  };
  const architectures = Array.isArray(config.architectures) ? config.architectures.map(String) : [];
  const headCount = first(CONFIG_KEYS.headCount);
  return {
    architecture: typeof config.model_type === 'string' ? config.model_type : (architectures[0] ?? null),
    layerCount: first(CONFIG_KEYS.layerCount),
    embeddingLength: first(CONFIG_KEYS.embeddingLength),
    headCount,
    headCountKv: first(CONFIG_KEYS.headCountKv) ?? headCount,
    contextLength: first(CONFIG_KEYS.contextLength),
    vocabSize: first(CONFIG_KEYS.vocabSize),
    feedForwardLength: first(CONFIG_KEYS.feedForwardLength),
    headDim: first(CONFIG_KEYS.headDim),
  };
}

/** The memory model's shape of an ONNX model from its config.json and the bytes of its graph and external data. */
export function shapeFromOnnxConfig(
  configJson: Record<string, unknown>,
  weightsBytes: number,
  quantization: string | null = null,
): ModelShape {
  return { format: 'onnx', weightsBytes, quantization, ...architectureNumbers(onnxConfigFacts(configJson)) };
}
