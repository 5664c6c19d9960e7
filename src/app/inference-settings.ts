// Checks of the generation settings a runtime cannot take, and the embedding shortening (`dimensions`) the use case applies.
import { InvalidInput } from '../errors.ts';
import type { GenerationSettings } from './inference-types.ts';

/** Inclusive numeric ranges of the sampler settings, where a value outside would make the samplers misbehave. */
const RANGES = {
  temperature: { min: 0, max: Number.POSITIVE_INFINITY },
  topP: { min: 0, max: 1 },
  topK: { min: 0, max: Number.POSITIVE_INFINITY, integer: true },
  frequencyPenalty: { min: -2, max: 2 },
  presencePenalty: { min: -2, max: 2 },
  seed: { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, integer: true },
  maxTokens: { min: 1, max: Number.POSITIVE_INFINITY, integer: true },
  contextSize: { min: 16, max: 1_048_576, integer: true },
} as const satisfies Partial<Record<keyof GenerationSettings, { min: number; max: number; integer?: boolean }>>;

/** Refuses (invalid_input, 400) settings outside what the runtime takes, naming the field, before anything is loaded. */
export function assertGenerationSettings(settings: GenerationSettings): void {
  for (const [field, range] of Object.entries(RANGES) as Array<[keyof typeof RANGES, (typeof RANGES)[keyof typeof RANGES]]>) {
    const value = settings[field];
    if (value === undefined) continue;
    const integer = 'integer' in range && range.integer;
    if (!Number.isFinite(value) || value < range.min || value > range.max || (integer && !Number.isInteger(value))) {
      const bounds = Number.isFinite(range.max) ? `between ${range.min} and ${range.max}` : `at least ${range.min}`;
      throw new InvalidInput(`${field} must be ${integer ? 'an integer ' : ''}${bounds}, got ${value}`, { field, value });
    }
  }
  // A penalty of 0 divides logits by zero in llama.cpp's penalty sampler.
  const { repeatPenalty } = settings;
  if (repeatPenalty !== undefined && !(Number.isFinite(repeatPenalty) && repeatPenalty > 0)) {
    throw new InvalidInput(`repeatPenalty must be more than 0 (1 = off), got ${repeatPenalty}`, {
      field: 'repeatPenalty',
      value: repeatPenalty,
    });
  }
  const format = settings.responseFormat;
  if (format?.type === 'json_schema' && (typeof format.schema !== 'object' || format.schema === null || Array.isArray(format.schema))) {
    throw new InvalidInput('a json_schema response format needs a JSON schema object', { field: 'responseFormat' });
  }
}

/** Keeps the first `dimensions` values of each vector and scales it back to unit length (Matryoshka-style shortening). */
export function shortenEmbeddings(embeddings: number[][], dimensions: number): number[][] {
  return embeddings.map((vector) => {
    const kept = vector.slice(0, dimensions);
    let sumOfSquares = 0;
    for (const value of kept) sumOfSquares += value * value;
    const norm = Math.sqrt(sumOfSquares);
    return norm > 0 ? kept.map((value) => value / norm) : kept;
  });
}
