// What a model's chat template (GGUF `tokenizer.chat_template`, Jinja) says it can do: the one rule for tool calling.

/** Jinja statements and expressions: `{% … %}` and `{{ … }}` (text outside them is what the template writes). */
const JINJA_CODE = /\{%-?([\s\S]*?)-?%\}|\{\{-?([\s\S]*?)-?\}\}/g;
/** The `tools` variable chat templates receive (Hugging Face's apply_chat_template, llama.cpp, node-llama-cpp). */
const TOOLS_VARIABLE = /(?<![\w.'"])tools(?![\w'"])/;

/**
 * Whether a chat template supports function calling: it reads the `tools` variable in its Jinja code, as
 * templates with tool support do (Llama 3.1+, Qwen 2.5, Mistral, Hermes…). Ollama decides the same way
 * from its Go template (`.Tools`). A model without a template (null/empty) does not support tools.
 * Runners report the `tools` capability from this, and listings use it for models that are not loaded.
 */
export function supportsTools(template: string | null | undefined): boolean {
  if (!template) return false;
  for (const match of template.matchAll(JINJA_CODE)) {
    if (TOOLS_VARIABLE.test(match[1] ?? match[2] ?? '')) return true;
  }
  return false;
}

/** The chat template a GGUF header's metadata carries, if any (as @huggingface/gguf or node-llama-cpp read it). */
export function chatTemplateOf(metadata: Record<string, unknown>): string | null {
  const flat = metadata['tokenizer.chat_template'];
  if (typeof flat === 'string') return flat;
  const tokenizer = metadata.tokenizer;
  if (typeof tokenizer === 'object' && tokenizer !== null) {
    const nested = (tokenizer as Record<string, unknown>).chat_template;
    if (typeof nested === 'string') return nested;
  }
  return null;
}
