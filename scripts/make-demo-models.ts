// Writes the four demo models (the set the server imports on first start) into a folder: tsx scripts/make-demo-models.ts OUTDIR
import path from 'node:path';
import fs from 'node:fs';
import { DEMO_MODELS, generateDemoModel } from '../src/store/demo-models.ts';

const outDir = process.argv[2];
if (!outDir) {
  process.stderr.write('usage: tsx scripts/make-demo-models.ts OUTDIR\n');
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });
for (const spec of DEMO_MODELS) {
  const written = await generateDemoModel(spec, path.resolve(outDir));
  process.stdout.write(`${spec.name}: ${written}\n`);
}
