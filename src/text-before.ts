// The text before a separator: what `text.split(separator)[0]` gives, without an array index that might be missing.

/** `text` up to (not including) the first `separator`; all of `text` when the separator does not occur. */
export function textBefore(text: string, separator: string): string {
  const at = text.indexOf(separator);
  return at === -1 ? text : text.slice(0, at);
}
