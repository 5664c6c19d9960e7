// koffi declarations of llama.cpp's quantizer ABI (llama.h of the bundled llama.cpp): its params struct, functions and log hook.
import koffi from 'koffi';

/**
 * `struct llama_model_quantize_params` field by field, in order: its name, its C type as include/llama.h spells it
 * (the ABI test compares both with the real header) and the koffi type laid out the same way. C enums are int-sized
 * on the platforms node-llama-cpp ships; the pointers are options Hangar never sets (always NULL).
 */
export const QUANTIZE_PARAMS_FIELDS = [
  ['nthread', 'int32_t', 'int32_t'],
  ['ftype', 'enum llama_ftype', 'int32_t'],
  ['output_tensor_type', 'enum ggml_type', 'int32_t'],
  ['token_embedding_type', 'enum ggml_type', 'int32_t'],
  ['allow_requantize', 'bool', 'bool'],
  ['quantize_output_tensor', 'bool', 'bool'],
  ['only_copy', 'bool', 'bool'],
  ['pure', 'bool', 'bool'],
  ['keep_split', 'bool', 'bool'],
  ['dry_run', 'bool', 'bool'],
  ['imatrix', 'const struct llama_model_imatrix_data *', 'const void *'],
  ['kv_overrides', 'const struct llama_model_kv_override *', 'const void *'],
  ['tt_overrides', 'const struct llama_model_tensor_override *', 'const void *'],
  ['prune_layers', 'const int32_t *', 'const int32_t *'],
  ['max_buf_size', 'size_t', 'size_t'],
] as const;

/** The struct as JS sees it through koffi. */
export interface LlamaModelQuantizeParams {
  nthread: number;
  ftype: number;
  output_tensor_type: number;
  token_embedding_type: number;
  allow_requantize: boolean;
  quantize_output_tensor: boolean;
  only_copy: boolean;
  pure: boolean;
  keep_split: boolean;
  dry_run: boolean;
  imatrix: unknown;
  kv_overrides: unknown;
  tt_overrides: unknown;
  prune_layers: unknown;
  max_buf_size: number | bigint;
}

/** `enum ggml_log_level` (ggml.h): CONT continues the previous line at its level. */
export const GGML_LOG_LEVEL = { NONE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4, CONT: 5 } as const;

export const LlamaModelQuantizeParamsType = koffi.struct(
  'llama_model_quantize_params',
  Object.fromEntries(QUANTIZE_PARAMS_FIELDS.map(([name, , type]) => [name, type])),
);

/** `typedef void (*ggml_log_callback)(enum ggml_log_level level, const char * text, void * user_data)`. */
const GgmlLogCallback = koffi.proto('void ggml_log_callback(int32_t level, const char *text, void *user_data)');

/** Receives each piece of text llama.cpp logs; a line may arrive in several pieces, the last one ending in "\n". */
export type LlamaLogSink = (level: number, text: string) => void;

export interface LlamaQuantizer {
  /** `llama_model_quantize_default_params()`. */
  defaultParams(): LlamaModelQuantizeParams;
  /**
   * `llama_model_quantize(fname_inp, fname_out, params)`, run on one of koffi's worker threads so the event loop
   * keeps turning (log lines flow meanwhile); resolves with its return value, 0 on success.
   */
  quantize(input: string, output: string, params: LlamaModelQuantizeParams): Promise<number>;
  /** Routes llama.cpp's and ggml's logging (`llama_log_set`) to `sink`; they print to stderr otherwise. */
  setLogSink(sink: LlamaLogSink): void;
}

/** Opens libllama at `libraryPath` (absolute: its RUNPATH finds libggml beside it) and binds the quantizer functions. */
export function openLlamaQuantizer(libraryPath: string): LlamaQuantizer {
  const lib = koffi.load(libraryPath);
  const defaultParams = lib.func('llama_model_quantize_params llama_model_quantize_default_params()');
  const quantize = lib.func(
    'uint32_t llama_model_quantize(const char *fname_inp, const char *fname_out, const llama_model_quantize_params *params)',
  );
  const logSet = lib.func('void llama_log_set(ggml_log_callback *log_callback, void *user_data)');
  // Registered, not transient: llama.cpp keeps the pointer and calls it long after llama_log_set returns.
  let registered: unknown;
  return {
    defaultParams: () => defaultParams() as LlamaModelQuantizeParams,
    quantize: (input, output, params) =>
      new Promise((resolve, reject) => {
        quantize.async(input, output, params, (error: unknown, result: number) => (error ? reject(error) : resolve(result)));
      }),
    setLogSink(sink) {
      const callback = koffi.register((level: number, text: string | null) => sink(level, text ?? ''), koffi.pointer(GgmlLogCallback));
      logSet(callback, null);
      if (registered !== undefined) koffi.unregister(registered as bigint);
      registered = callback;
    },
  };
}
