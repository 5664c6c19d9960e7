// Build step after tsc: bundles the many-file ESM packages the server loads at start into dist/vendor and points dist at them.
// Node 20's ESM loader pays per module: TypeBox (~680 files), Kysely (~260) and @huggingface/gguf with its
// @huggingface/tasks (~70) took ~190 ms and ~20 MB RSS of every start as separate files, a few ms and ~3 MB bundled.
// Usage (npm run build runs it): tsx scripts/bundle-vendor.ts [DIST_DIR]
import fs from 'node:fs';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';

const ROOT = path.resolve(new URL('..', import.meta.url).pathname);
const DIST = path.resolve(process.argv[2] ?? path.join(ROOT, 'dist'));
const VENDOR = path.join(DIST, 'vendor');
/** Pure-JS ESM packages (no files of their own read at run time, no import.meta): safe to move into one bundle. */
const PACKAGES = ['typebox', 'kysely', '@huggingface/gguf'];
/** Folders of dist that are not the server's compiled modules. */
const SKIP = [VENDOR, path.join(DIST, 'web')];
const escaped = PACKAGES.map((p) => p.replace(/[/\\^$*+?.()|[\]{}]/g, '\\$&')).join('|');
/** `from 'typebox'`, `import('kysely')`, `from 'typebox/compile'`… as tsc writes them (type-only imports are already gone). */
const SPECIFIER = new RegExp(`(\\bfrom\\s*|\\bimport\\s*\\(\\s*)(['"])((?:${escaped})(?:/[^'"]*)?)\\2`, 'g');

function compiledFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return SKIP.includes(full) ? [] : compiledFiles(full);
    return entry.name.endsWith('.js') ? [full] : [];
  });
}

/** `typebox/compile` → `typebox-compile`, `@huggingface/gguf` → `huggingface-gguf`. */
const entryName = (specifier: string) => specifier.replace(/^@/, '').replaceAll('/', '-');

async function main(): Promise<void> {
  if (fs.existsSync(VENDOR)) throw new Error(`${VENDOR} exists: run this once on a fresh tsc output (npm run build)`);
  const files = compiledFiles(DIST).map((file) => ({ file, text: fs.readFileSync(file, 'utf8') }));
  const specifiers = new Set(files.flatMap(({ text }) => [...text.matchAll(SPECIFIER)].map((m) => m[3] as string)));
  if (specifiers.size === 0) throw new Error(`no import of ${PACKAGES.join(', ')} found under ${DIST}`);

  // One entry per specifier the code imports, re-exporting it whole; splitting keeps one copy of what entries share.
  const entries = new Map<string, string>();
  for (const specifier of specifiers) {
    const namespace = (await import(specifier)) as Record<string, unknown>;
    const reexportDefault = 'default' in namespace ? `export { default } from '${specifier}';\n` : '';
    entries.set(entryName(specifier), `export * from '${specifier}';\n${reexportDefault}`);
  }
  const virtualEntries: Plugin = {
    name: 'vendor-entries',
    setup(b) {
      b.onResolve({ filter: /^vendor-entry:/ }, (args) => ({ path: args.path.slice('vendor-entry:'.length), namespace: 'vendor-entry' }));
      b.onLoad({ filter: /.*/, namespace: 'vendor-entry' }, (args) => ({
        contents: entries.get(args.path),
        resolveDir: ROOT,
        loader: 'js',
      }));
    },
  };
  await build({
    entryPoints: Object.fromEntries([...entries.keys()].map((name) => [name, `vendor-entry:${name}`])),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: VENDOR,
    chunkNames: 'chunk-[hash]',
    sourcemap: true,
    logLevel: 'warning',
    plugins: [virtualEntries],
  });

  let rewritten = 0;
  for (const { file, text } of files) {
    const next = text.replace(SPECIFIER, (_match, lead: string, quote: string, specifier: string) => {
      rewritten++;
      const relative = path
        .relative(path.dirname(file), path.join(VENDOR, `${entryName(specifier)}.js`))
        .split(path.sep)
        .join('/');
      return `${lead}${quote}${relative.startsWith('.') ? relative : `./${relative}`}${quote}`;
    });
    if (next !== text) fs.writeFileSync(file, next);
  }
  process.stdout.write(
    `bundled ${[...specifiers].sort().join(', ')} into ${path.relative(ROOT, VENDOR)}; ${rewritten} imports rewritten\n`,
  );
}

await main();
