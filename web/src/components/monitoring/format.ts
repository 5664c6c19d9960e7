// Megabyte figures as the monitoring panels show them: one decimal, the same MiB the API reports, so they compare exactly.
export const formatMb = (mb: number | null | undefined): string => (mb == null ? '—' : `${mb.toFixed(1)} MiB`);
