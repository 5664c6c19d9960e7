// Version integrity: validate every stored file and the format's needs, persist the verdict, repair from the hub, and refuse loading damaged versions.
import fsp from 'node:fs/promises';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { ResolvedVersion } from '../registry/catalog.ts';
import { recordAuditEvent, type ActionContext } from '../registry/audit.ts';
import type { VersionManifest } from '../schemas/models.ts';
import type { IntegrityReport, RepairSummary, RequirementCheck } from '../schemas/integrity.ts';
import { Conflict } from '../errors.ts';
import { FILELESS_FORMATS, type ModelFormat } from '../model-shape/model-shape.ts';
import { safetensorsRequirements } from './safetensors-integrity.ts';
import { checkFile, fileIntact, ggufRequirements, onnxRequirements, type CheckedFile, type ExpectedFile } from './integrity-checks.ts';

/** What integrity checks read and write: the database (version_files, version_integrity, audit) and the blob store. */
export interface IntegrityDeps {
  db: Kysely<Database>;
  store: BlobStore;
}

/** A stored file whose bytes are wrong or missing: what the hub must deliver again. */
export interface BadFile {
  path: string;
  sha256: string;
  size_bytes: number;
}

/**
 * Fetches bad files of a hub-downloaded version again (implemented by the hub downloader).
 * When `repair` is called the bad blobs have already been moved out of the store, so putting the
 * verified bytes under the same digest (putFile / adoptFile) writes them fresh; the snapshot links
 * point at the digest names and resolve again once the blobs are back. Resolves when every file
 * in `badFiles` is back in the store (or rejects with the reason).
 */
export interface VersionRepairer {
  repair(resolved: ResolvedVersion, badFiles: BadFile[], context: ActionContext): Promise<{ job_id: string; repaired: string[] }>;
}

export interface ValidateOptions {
  /** Fetch bad files again (hub versions only) and validate again. */
  repair?: boolean;
  repairer?: VersionRepairer;
  context: ActionContext;
}

async function expectedFiles(db: Kysely<Database>, versionId: string): Promise<ExpectedFile[]> {
  return db
    .selectFrom('version_files')
    .select(['path', 'sha256', 'size_bytes'])
    .where('version_id', '=', versionId)
    .orderBy('path')
    .execute();
}

async function checkAllFiles(
  deps: IntegrityDeps,
  resolved: ResolvedVersion,
  hash: boolean,
): Promise<{ expected: ExpectedFile[]; checked: CheckedFile[] }> {
  const expected = await expectedFiles(deps.db, resolved.version.id);
  // A missing snapshot folder is rebuilt from the blobs (as a load would), so only real damage shows.
  const snapshotDir = await deps.store.materializeSnapshot(resolved.model.id, resolved.version.version, expected);
  const checked: CheckedFile[] = [];
  for (const file of expected) checked.push(await checkFile(deps.store, snapshotDir, file, hash));
  return { expected, checked };
}

function buildReport(
  resolved: ResolvedVersion,
  check: IntegrityReport['check'],
  checked: CheckedFile[],
  required: RequirementCheck[],
): IntegrityReport {
  const problems = [...checked.flatMap((f) => f.problems), ...required.filter((r) => !r.ok).map((r) => `${r.requirement}: ${r.detail}`)];
  return {
    model: resolved.model.name,
    version: resolved.version.version,
    format: resolved.version.format as ModelFormat,
    check,
    valid: problems.length === 0,
    checked_at: new Date().toISOString(),
    files: checked.map((f) => f.check),
    required,
    problems,
  };
}

async function saveReport(db: Kysely<Database>, versionId: string, report: IntegrityReport): Promise<void> {
  const row = { version_id: versionId, valid: report.valid ? 1 : 0, report: JSON.stringify(report), checked_at: report.checked_at };
  await db
    .insertInto('version_integrity')
    .values(row)
    .onConflict((oc) => oc.column('version_id').doUpdateSet({ valid: row.valid, report: row.report, checked_at: row.checked_at }))
    .execute();
}

/** What a version's format needs beyond intact files; a file-less version (held by an Ollama server) needs nothing here. */
async function formatRequirements(format: string, byPath: Map<string, CheckedFile>, entry: string): Promise<RequirementCheck[]> {
  if (FILELESS_FORMATS.has(format)) return [];
  if (format === 'safetensors' || format === 'diffusers') return safetensorsRequirements(byPath, format);
  return format === 'gguf' ? ggufRequirements(byPath, entry) : onnxRequirements(byPath, entry);
}

/** Full validation: every file hashed, the format's requirements checked; the verdict is stored (a valid one lifts a load block). */
export async function validateVersion(deps: IntegrityDeps, resolved: ResolvedVersion): Promise<IntegrityReport> {
  const { checked } = await checkAllFiles(deps, resolved, true);
  const manifest = JSON.parse(resolved.version.manifest) as VersionManifest;
  const byPath = new Map(checked.map((f) => [f.check.path, f]));
  const required = await formatRequirements(resolved.version.format, byPath, manifest.entry);
  const report = buildReport(resolved, 'full', checked, required);
  await saveReport(deps.db, resolved.version.id, report);
  return report;
}

/** The check run on every load: each file present with its expected size (stat only, no hashing). Not stored. */
export async function quickCheckVersion(deps: IntegrityDeps, resolved: ResolvedVersion): Promise<IntegrityReport> {
  const { checked } = await checkAllFiles(deps, resolved, false);
  return buildReport(resolved, 'quick', checked, []);
}

/** The last stored report of a version, or null when it was never checked. */
export async function lastIntegrityReport(db: Kysely<Database>, versionId: string): Promise<IntegrityReport | null> {
  const row = await db.selectFrom('version_integrity').select(['valid', 'report']).where('version_id', '=', versionId).executeTakeFirst();
  if (!row) return null;
  return { ...(JSON.parse(row.report) as IntegrityReport), valid: Number(row.valid) === 1 };
}

function integrityFailed(report: IntegrityReport): Conflict {
  const more = report.problems.length > 1 ? ` (and ${report.problems.length - 1} more)` : '';
  return new Conflict(
    `${report.model}:${report.version} failed its integrity check: ${report.problems[0] ?? 'invalid'}${more}. Validate it again (with repair for hub downloads) or re-import it.`,
    { model: report.model, version: report.version, check: report.check, checked_at: report.checked_at, problems: report.problems },
    'integrity_failed',
  );
}

/**
 * Refuses to load a version whose last stored validation is invalid, or whose files are not all
 * present with their expected sizes now (that finding is stored, so later loads are refused too).
 */
export async function assertLoadable(deps: IntegrityDeps, resolved: ResolvedVersion): Promise<void> {
  const stored = await lastIntegrityReport(deps.db, resolved.version.id);
  if (stored && !stored.valid) throw integrityFailed(stored);
  const quick = await quickCheckVersion(deps, resolved);
  if (quick.valid) return;
  await saveReport(deps.db, resolved.version.id, quick);
  throw integrityFailed(quick);
}

/** The files a report found damaged or missing. */
export function badFilesOf(report: IntegrityReport): BadFile[] {
  return report.files
    .filter((f) => !fileIntact(f))
    .map((f) => ({ path: f.path, sha256: f.expected_sha256, size_bytes: f.expected_size_bytes }));
}

function sourceKind(resolved: ResolvedVersion): string {
  try {
    const source = JSON.parse(resolved.version.source) as { kind?: unknown };
    return typeof source.kind === 'string' ? source.kind : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Why a report's bad files cannot be fetched again (empty when they can). */
export function notRepairableReasons(resolved: ResolvedVersion, report: IntegrityReport, repairer: VersionRepairer | undefined): string[] {
  const reasons: string[] = [];
  const needBytes = report.files.some((f) => !fileIntact(f) && !(f.size_bytes === f.expected_size_bytes && f.sha256_match === true));
  if (badFilesOf(report).length === 0)
    reasons.push('the problems are not in the stored files (the version itself lacks what its format needs): re-import or re-download it');
  if (needBytes && sourceKind(resolved) !== 'hub')
    reasons.push(
      `version ${resolved.version.version} was not downloaded from a hub (source kind "${sourceKind(resolved)}"): re-import it from its original files`,
    );
  if (needBytes && !repairer) reasons.push('this server has no hub downloader to fetch files again');
  return reasons;
}

/**
 * Repairs an invalid version: snapshot links to intact blobs are rebuilt locally; damaged or missing
 * blobs are moved aside and fetched again by `repairer` from the version's hub. Then validates again.
 * 409 `not_repairable` (nothing changed) when the damage cannot be fetched again.
 */
export async function repairVersion(
  deps: IntegrityDeps,
  resolved: ResolvedVersion,
  report: IntegrityReport,
  repairer: VersionRepairer | undefined,
  context: ActionContext,
): Promise<IntegrityReport> {
  const reasons = notRepairableReasons(resolved, report, repairer);
  if (reasons.length > 0) {
    throw new Conflict(
      `${report.model}:${report.version} cannot be repaired: ${reasons.join('; ')}`,
      { reasons, validation: report },
      'not_repairable',
    );
  }
  const bad = badFilesOf(report);
  const intactBlob = new Set(
    report.files.filter((f) => f.size_bytes === f.expected_size_bytes && f.sha256_match === true).map((f) => f.path),
  );
  const linkOnly = bad.filter((f) => intactBlob.has(f.path));
  const refetch = bad.filter((f) => !intactBlob.has(f.path));
  const summary: RepairSummary = { job_id: null, repaired: [] };
  if (linkOnly.length > 0) {
    await deps.store.removeSnapshots(resolved.model.id, resolved.version.version);
    summary.repaired.push(...linkOnly.map((f) => f.path));
  }
  if (refetch.length > 0 && repairer) {
    const quarantined: string[] = [];
    for (const sha of new Set(refetch.map((f) => f.sha256))) {
      const moved = await deps.store.quarantineBlob(sha);
      if (moved) quarantined.push(moved);
    }
    try {
      const outcome = await repairer.repair(resolved, refetch, context);
      summary.job_id = outcome.job_id;
      summary.repaired.push(...outcome.repaired);
    } finally {
      for (const file of quarantined) await fsp.rm(file, { force: true });
    }
  }
  // A rebuilt snapshot is laid out again by the validation.
  const fresh: IntegrityReport = { ...(await validateVersion(deps, resolved)), repair: summary };
  await saveReport(deps.db, resolved.version.id, fresh);
  await recordAuditEvent(deps.db, context, {
    action: 'model.repair',
    target: `${resolved.model.name}:${resolved.version.version}`,
    outcome: fresh.valid ? 'success' : 'failure',
    details: { job_id: summary.job_id, repaired: summary.repaired, valid: fresh.valid, problems: fresh.problems },
  });
  return fresh;
}

/** Validates (and with `repair`, repairs an invalid version); audited as `model.validate`. */
export async function validateAndRepair(
  deps: IntegrityDeps,
  resolved: ResolvedVersion,
  options: ValidateOptions,
): Promise<IntegrityReport> {
  const report = await validateVersion(deps, resolved);
  await recordAuditEvent(deps.db, options.context, {
    action: 'model.validate',
    target: `${resolved.model.name}:${resolved.version.version}`,
    outcome: 'success',
    details: { valid: report.valid, problems: report.problems.slice(0, 20) },
  });
  if (!options.repair || report.valid) return report;
  return repairVersion(deps, resolved, report, options.repairer, options.context);
}

/** The load guard the runtime calls before placing a version (see assertLoadable). */
export class VersionIntegrity {
  constructor(private readonly deps: IntegrityDeps) {}

  assertLoadable(resolved: ResolvedVersion): Promise<void> {
    return assertLoadable(this.deps, resolved);
  }
}
