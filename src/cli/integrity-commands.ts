// CLI command for integrity: validate a model version (per-file table and verdict), optionally repairing it from its hub.
import { modelPath, type HangarClient } from './http-client.ts';
import { formatBytes, formatTable } from './format.ts';
import type { FileCheck, IntegrityReport } from '../schemas/integrity.ts';

export interface IntegrityCommandContext {
  client: HangarClient;
  json: boolean;
  print: (text: string) => void;
}

function shaColumn(file: FileCheck): string {
  if (file.sha256_match === null) return 'not hashed';
  return file.sha256_match ? 'ok' : file.sha256 === null ? 'missing' : `MISMATCH ${file.sha256.slice(0, 12)}…`;
}

function sizeColumn(file: FileCheck): string {
  if (file.size_bytes === null) return 'missing';
  return file.size_bytes === file.expected_size_bytes
    ? formatBytes(file.size_bytes)
    : `${file.size_bytes} B (expected ${file.expected_size_bytes} B)`;
}

/** Human form of a report: the file table, the format's requirements, the problems and the verdict. */
export function describeReport(report: IntegrityReport): string {
  const files = formatTable(
    ['FILE', 'PRESENT', 'SIZE', 'SHA256'],
    report.files.map((f) => [f.path, f.present ? 'yes' : 'NO', sizeColumn(f), shaColumn(f)]),
  );
  const required = report.required.length
    ? `\n\n${formatTable(
        ['REQUIREMENT', 'OK', 'DETAIL'],
        report.required.map((r) => [r.requirement, r.ok ? 'yes' : 'NO', r.detail]),
      )}`
    : '';
  const repair = report.repair
    ? `\n\nRepaired ${report.repair.repaired.length} file(s)${report.repair.job_id ? ` (job ${report.repair.job_id})` : ''}: ${report.repair.repaired.join(', ') || '-'}`
    : '';
  const problems = report.problems.length ? `\n\nProblems:\n${report.problems.map((p) => `  - ${p}`).join('\n')}` : '';
  const verdict = `${report.model}:${report.version} (${report.format}) is ${report.valid ? 'VALID' : 'INVALID'}`;
  return `${files}${required}${repair}${problems}\n\n${verdict}`;
}

/** `hangar validate MODEL [--repair]`; returns the exit code: 0 valid, 1 invalid. */
export async function validate(c: IntegrityCommandContext, name: string, repair: boolean): Promise<number> {
  const report = await c.client.request<IntegrityReport>(
    'POST',
    `/api/v1/models/validate/${modelPath(name)}${repair ? '?repair=true' : ''}`,
  );
  c.print(c.json ? JSON.stringify(report, null, 2) : describeReport(report));
  return report.valid ? 0 : 1;
}
