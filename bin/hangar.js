#!/usr/bin/env node
// Entry point of the `hangar` command: runs the compiled CLI in dist/ (`npm run build`; npm ci and npm install build it).
import fs from 'node:fs';

const cli = new URL('../dist/cli/main.js', import.meta.url);
if (!fs.existsSync(cli)) {
  process.stderr.write('hangar: no compiled build in dist/; run `npm run build` (npm ci and npm install run it)\n');
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
