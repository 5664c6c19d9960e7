// Where a child process's entry file is: the compiled one beside the calling module in the build, the build's copy under tsx, else the .ts source.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The entry a server forks is the compiled one (`<relative>.js` next to `moduleUrl` in the build). When the sources run
 * under tsx (tests, development), the build's copy (`dist/<fromSrc>.js`) is used too if there is one — so tests run the
 * child users run — unless HANGAR_RUNNER_FROM_SOURCES=1 asks for the `.ts` (with the tsx loader).
 */
export function childEntry(moduleUrl: string, relative: string, fromSrc: string): { entry: string; execArgv: string[] } {
  const own = fileURLToPath(moduleUrl);
  if (path.extname(own) === '.js') return { entry: fileURLToPath(new URL(`${relative}.js`, moduleUrl)), execArgv: [] };
  const srcRoot = own.slice(0, own.lastIndexOf(`${path.sep}src${path.sep}`));
  const built = path.join(srcRoot, 'dist', `${fromSrc}.js`);
  if (process.env.HANGAR_RUNNER_FROM_SOURCES !== '1' && fs.existsSync(built)) return { entry: built, execArgv: [] };
  return { entry: fileURLToPath(new URL(`${relative}.ts`, moduleUrl)), execArgv: ['--import', 'tsx'] };
}
