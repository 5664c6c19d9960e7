// Q quality helpers: next-token distributions of a GGUF in node-llama-cpp (argmax agreement and KL against F16), cosine of embeddings.
import type { Token } from 'node-llama-cpp';
import { benchLlama } from './generation.ts';

/** Fixed prompts in the fixture's own word list (src/tiny-models/llama-gguf.ts), so they tokenize into whole words. */
export const QUALITY_PROMPTS = [
  'the model server said hello world to the small tiny llama',
  'when you load the data file into memory the program can read and write',
  'this is a test of the hangar system and its fast load time',
  'the teacher will ask each child a question about the book',
  'people who work at the company like to play a game after the meeting',
  'we want to find out why the big water room was open every night',
  'my father and mother live in a house in the city with a friend',
  'first think about the result then tell the team what you believe',
] as const;

/** A quantized probability below this counts as this, so log(p / q) stays finite where float32 softmax underflowed to 0. */
const FLOOR = 1e-10;

/**
 * The next-token distribution after every position of every prompt (BOS first), as dense arrays over the vocabulary.
 * At temperature 0 node-llama-cpp's sampler chain is greedy only, which leaves every candidate's raw logit in place, so
 * `probabilities` is the softmax over the whole vocabulary, not a top-k; `fullVocabulary` says whether that held.
 */
export async function nextTokenDistributions(
  file: string,
  threads: number,
  vocabularySize: number,
): Promise<{ distributions: Float32Array[]; fullVocabulary: boolean }> {
  const llama = await benchLlama();
  const model = await llama.loadModel({ modelPath: file });
  const context = await model.createContext({ contextSize: 512, threads });
  const sequence = context.getSequence();
  const distributions: Float32Array[] = [];
  let fullVocabulary = true;
  try {
    for (const prompt of QUALITY_PROMPTS) {
      await sequence.clearHistory();
      const bos = model.tokens.bos;
      const tokens: Token[] = [...(bos === null ? [] : [bos]), ...model.tokenize(prompt)];
      const outputs = await sequence.controlledEvaluate(
        tokens.map((token) => [token, { generateNext: { probabilities: true, options: { temperature: 0 } } }] as const),
      );
      for (const output of outputs) {
        const probabilities = output?.next.probabilities;
        if (!probabilities) throw new Error(`no probabilities from ${file}`);
        if (probabilities.size !== vocabularySize) fullVocabulary = false;
        const dense = new Float32Array(vocabularySize);
        for (const [token, p] of probabilities) dense[token] = p;
        distributions.push(dense);
      }
    }
  } finally {
    await context.dispose();
    await model.dispose();
  }
  return { distributions, fullVocabulary };
}

const argmax = (values: Float32Array): number => {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
};

/** Fraction of positions where both pick the same next token, and mean KL(reference || other) in nats. */
export function compareDistributions(reference: Float32Array[], other: Float32Array[]): { agreement: number; meanKl: number } {
  if (reference.length !== other.length) throw new Error(`${reference.length} positions vs ${other.length}`);
  let agree = 0;
  let klSum = 0;
  for (let i = 0; i < reference.length; i++) {
    const p = reference[i];
    const q = other[i];
    if (argmax(p) === argmax(q)) agree++;
    let kl = 0;
    for (let t = 0; t < p.length; t++) if (p[t] > 0) kl += p[t] * Math.log(p[t] / Math.max(q[t], FLOOR));
    klSum += kl;
  }
  return { agreement: agree / reference.length, meanKl: klSum / reference.length };
}

/** Mean cosine similarity of paired vectors. */
export function meanCosine(a: number[][], b: number[][]): number {
  if (a.length !== b.length) throw new Error(`${a.length} vectors vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let j = 0; j < a[i].length; j++) {
      dot += a[i][j] * b[i][j];
      na += a[i][j] ** 2;
      nb += b[i][j] ** 2;
    }
    sum += dot / Math.sqrt(na * nb);
  }
  return sum / a.length;
}
