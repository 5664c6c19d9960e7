// Glob patterns over repo paths as huggingface-cli's --include/--exclude take them (fnmatch: `*` also crosses `/`).

function escapeRegExp(text: string): string {
  return text.replace(/[.+^${}()|\\/]/g, '\\$&');
}

/** A pattern as a RegExp: `*` any run of characters, `?` one, `[abc]`/`[!abc]` a class; the rest literal. */
export function globRegExp(pattern: string): RegExp {
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
      out += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`.replace(/\\/g, '\\\\');
      i = close;
    } else out += escapeRegExp(c);
  }
  return new RegExp(`^${out}$`);
}

/** Whether `filePath` matches any of `patterns`. */
export function matchesAny(patterns: readonly string[], filePath: string): boolean {
  return patterns.some((pattern) => globRegExp(pattern).test(filePath));
}
