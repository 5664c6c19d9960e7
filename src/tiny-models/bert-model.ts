// Writes a tiny, randomly initialised but structurally real BERT feature-extraction model in Hugging Face folder layout.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { INITIALIZER_RANGE, LAYER_NORM_EPS, buildModel, resolveOptions, type ResolvedOptions, type TinyBertOptions } from './bert-graph.ts';
import { writeOnnxModel } from './onnx-file-writer.ts';
import { SPECIAL_TOKENS, buildVocab } from './wordpiece-vocab.ts';

export type { TinyBertOptions } from './bert-graph.ts';

export interface TinyBertSummary {
  /** Paths of the written files, relative to the model folder. */
  files: string[];
  hiddenSize: number;
  vocabSize: number;
  /** Learned weights in the ONNX graph (embeddings, projections, biases, LayerNorm scales/shifts). */
  parameterCount: number;
}

function specialTokenIds(vocab: string[]): Record<string, number> {
  return Object.fromEntries(SPECIAL_TOKENS.map((t) => [t, vocab.indexOf(t)]));
}

/** tokenizer.json in the Hugging Face `tokenizers` format: BERT normalizer, pre-tokenizer and WordPiece. */
function tokenizerJson(vocab: string[]): unknown {
  const ids = specialTokenIds(vocab);
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const sequence = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content) => ({
      id: ids[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    // Lowercasing here is what lets "Hello" find "hello"; strip_accents null follows lowercase, as in bert-base-uncased.
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]', 0), sequence('A', 0), special('[SEP]', 0)],
      pair: [special('[CLS]', 0), sequence('A', 0), special('[SEP]', 0), sequence('B', 1), special('[SEP]', 1)],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [ids['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [ids['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((token, id) => [token, id])),
    },
  };
}

function configJson(opts: ResolvedOptions, vocabSize: number): unknown {
  return {
    _name_or_path: 'hangar/tiny-random-bert',
    architectures: ['BertModel'],
    attention_probs_dropout_prob: 0.1,
    classifier_dropout: null,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    hidden_size: opts.hiddenSize,
    initializer_range: INITIALIZER_RANGE,
    intermediate_size: opts.intermediateSize,
    layer_norm_eps: LAYER_NORM_EPS,
    max_position_embeddings: opts.maxPositions,
    model_type: 'bert',
    num_attention_heads: opts.numHeads,
    num_hidden_layers: opts.numLayers,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    torch_dtype: 'float32',
    type_vocab_size: 2,
    use_cache: true,
    vocab_size: vocabSize,
  };
}

function tokenizerConfigJson(maxPositions: number): unknown {
  return {
    // pad_token is required: without it transformers.js cannot pad a batch.
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    mask_token: '[MASK]',
    do_lower_case: true,
    strip_accents: null,
    tokenize_chinese_chars: true,
    clean_up_tokenization_spaces: true,
    // Equal to the position table size, so truncation never indexes past it.
    model_max_length: maxPositions,
    tokenizer_class: 'BertTokenizer',
  };
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/**
 * Writes config.json, tokenizer files, vocab.txt and onnx/model.onnx into `dir` (created if missing).
 * transformers.js 4.3 on Node defaults to device 'cpu' and dtype 'fp32', whose file-name suffix is '' — so it
 * loads `onnx/model.onnx` (not model_quantized.onnx, which is only the default for the 'wasm' device).
 */
export async function writeTinyBertModel(dir: string, options: TinyBertOptions = {}): Promise<TinyBertSummary> {
  const opts = resolveOptions(options);
  const vocab = buildVocab({ vocabSize: options.vocabSize });
  const { model, parameterCount } = buildModel(opts, vocab.length);
  const files: [string, string][] = [
    ['config.json', json(configJson(opts, vocab.length))],
    ['tokenizer.json', json(tokenizerJson(vocab))],
    ['tokenizer_config.json', json(tokenizerConfigJson(opts.maxPositions))],
    [
      'special_tokens_map.json',
      json({ cls_token: '[CLS]', mask_token: '[MASK]', pad_token: '[PAD]', sep_token: '[SEP]', unk_token: '[UNK]' }),
    ],
    ['vocab.txt', `${vocab.join('\n')}\n`],
  ];
  await mkdir(join(dir, 'onnx'), { recursive: true });
  for (const [name, content] of files) await writeFile(join(dir, name), content);
  // Streamed: a BGE-base-sized graph (~440 MB) never sits in memory whole.
  await writeOnnxModel(join(dir, 'onnx', 'model.onnx'), model);
  return {
    files: [...files.map(([name]) => name), 'onnx/model.onnx'],
    hiddenSize: opts.hiddenSize,
    vocabSize: vocab.length,
    parameterCount,
  };
}
