// Synthetic vocabulary pieces for the tiny-model generators: every lowercase string of 2 letters, then 3, ... in alphabetical order.

/** "aa", "ab", ..., "zz", "aaa", ...: endless, so callers stop once their vocabulary is full. */
export function* letterStrings(): Generator<string> {
  for (let length = 2; ; length++) {
    const count = 26 ** length;
    for (let n = 0; n < count; n++) {
      // n written in base 26 with `length` digits, most significant first, a = 0.
      let piece = '';
      for (let rest = n, k = 0; k < length; k++, rest = Math.floor(rest / 26)) piece = String.fromCharCode(97 + (rest % 26)) + piece;
      yield piece;
    }
  }
}
