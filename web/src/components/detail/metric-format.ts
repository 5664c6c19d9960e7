// How the detail page writes a metric value: up to four significant digits, so 0.65 does not show as 0.6499999999999999.
export const formatMetric = (value: number | null | undefined): string =>
  value == null ? '—' : Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
