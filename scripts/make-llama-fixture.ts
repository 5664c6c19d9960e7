// CLI: writes a tiny random-weight llama GGUF for tests and demos, e.g. `tsx scripts/make-llama-fixture.ts out.gguf --type Q8_0`.
import { parseArgs } from 'node:util';
import { writeTinyLlamaGguf, type TinyLlamaOptions } from './lib/llama-gguf-writer.ts';

const USAGE =
  'usage: tsx scripts/make-llama-fixture.ts OUT.gguf [--type F32|F16|Q8_0|Q4_0] [--embd 64] [--blocks 2] [--heads 4] ' +
  '[--kv-heads 2] [--ff 128] [--ctx 512] [--seed 1] [--name NAME]';

const TYPES = ['F32', 'F16', 'Q8_0', 'Q4_0'] as const;

function int(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`--${flag} must be an integer, got ${raw}`);
  return n;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      type: { type: 'string' },
      embd: { type: 'string' },
      blocks: { type: 'string' },
      heads: { type: 'string' },
      'kv-heads': { type: 'string' },
      ff: { type: 'string' },
      ctx: { type: 'string' },
      seed: { type: 'string' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length !== 1) {
    console.error(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const type = values.type;
  if (type !== undefined && !TYPES.some((t) => t === type)) throw new Error(`--type must be one of ${TYPES.join(', ')}, got ${type}`);
  const options: TinyLlamaOptions = {
    type: TYPES.find((t) => t === type),
    embeddingLength: int('embd', values.embd),
    blockCount: int('blocks', values.blocks),
    headCount: int('heads', values.heads),
    headCountKv: int('kv-heads', values['kv-heads']),
    feedForwardLength: int('ff', values.ff),
    contextLength: int('ctx', values.ctx),
    seed: int('seed', values.seed),
    name: values.name,
  };
  const started = performance.now();
  const summary = await writeTinyLlamaGguf(positionals[0], options);
  console.log(JSON.stringify({ ...summary, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) }));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
