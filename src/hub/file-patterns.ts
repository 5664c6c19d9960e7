// Glob patterns over repo paths as huggingface-cli's --include/--exclude take them (fnmatch: `*` also crosses `/`).
import { InvalidInput } from '../errors.ts';

function escapeRegExp(text: string): string {
  return text.replace(/[.+^${}()|\\/]/g, '\\$&');
}

/** A pattern as a RegExp: `*` any run of characters, `?` one, `[abc]`/`[!abc]` a class; the rest literal. */
export function globRegExp(given: string): RegExp {
  // As huggingface_hub does, a folder pattern (`unet/`) means everything under it.
  const pattern = given.endsWith('/') ? `${given}*` : given;
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close === -1) {
        out += '\\[';
        continue;
      }
      const body = pattern.slice(i + 1, close);
      // fnmatch negates with `!`; a `^` is a literal there, as is every backslash.
      const negated = body.startsWith('!');
      const members = (negated ? body.slice(1) : body).replace(/\\/g, '\\\\').replace(/^\^/, '\\^');
      out += `[${negated ? '^' : ''}${members}]`;
      i = close;
    } else out += escapeRegExp(c);
  }
  try {
    return new RegExp(`^${out}$`);
  } catch (error) {
    throw new InvalidInput(`Not a usable file pattern: ${given} (${(error as Error).message})`, { pattern: given });
  }
}

/** Whether `filePath` matches any of `patterns`. */
export function matchesAny(patterns: readonly string[], filePath: string): boolean {
  return patterns.some((pattern) => globRegExp(pattern).test(filePath));
}
