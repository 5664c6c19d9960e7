// The names of the backends and of what their models can do: a leaf module, so the API's schemas can list them without importing the backends.
export const BACKEND_IDS = ['onnx', 'llamacpp', 'ollama'] as const;
export type BackendId = (typeof BACKEND_IDS)[number];

/** `tools`: chat with function calling (the model's chat template supports it). */
export const CAPABILITIES = ['embed', 'generate', 'chat', 'tools'] as const;
export type Capability = (typeof CAPABILITIES)[number];
