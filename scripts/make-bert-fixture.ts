// CLI: writes a tiny random BERT feature-extraction model folder (usage: tsx scripts/make-bert-fixture.ts OUTDIR [--hidden 32] [--layers 1] [--seed 1]).
import { parseArgs } from 'node:util';
import { writeTinyBertModel } from './lib/bert-onnx-writer.ts';

const USAGE = 'usage: tsx scripts/make-bert-fixture.ts OUTDIR [--hidden 32] [--layers 1] [--seed 1]';

function intOption(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new Error(`--${name} must be an integer, got "${raw}"\n${USAGE}`);
  return value;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      hidden: { type: 'string' },
      layers: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length !== 1) {
    console.error(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const outDir = positionals[0];
  const summary = await writeTinyBertModel(outDir, {
    hiddenSize: intOption('hidden', values.hidden),
    numLayers: intOption('layers', values.layers),
    seed: intOption('seed', values.seed),
  });
  console.log(
    `wrote ${outDir}: hidden ${summary.hiddenSize}, vocab ${summary.vocabSize}, ` +
      `${summary.parameterCount} parameters, files ${summary.files.join(', ')}`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
