// Byte counts as the API reports memory: mebibytes, to one decimal.
export const MIB = 1024 * 1024;

/** `bytes` in MiB, rounded to a tenth (the unit of every `*_mb` memory field). */
export function roundedMib(bytes: number): number {
  return Math.round((bytes / MIB) * 10) / 10;
}
