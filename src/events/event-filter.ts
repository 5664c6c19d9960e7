// Which events a subscriber wants: exact types, `family.*` patterns or `*` (SSE `types` and webhook subscriptions).

export function eventMatches(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))));
}
