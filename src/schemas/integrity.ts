// Schemas of version integrity checks: the validation report (files, format requirements, problems) and its query.
import { Type, type Static } from 'typebox';
import { ModelFormat } from './models.ts';
import { Nullable } from './common.ts';

export const FileCheck = Type.Object({
  path: Type.String({ description: 'Path inside the version.' }),
  present: Type.Boolean({ description: 'The blob is in the store and the snapshot link resolves to it.' }),
  size_bytes: Nullable(Type.Integer({ description: 'Actual size; null when the blob is missing.' })),
  expected_size_bytes: Type.Integer(),
  sha256: Nullable(Type.String({ description: 'sha256 recomputed from the bytes; null when missing or not hashed (quick check).' })),
  expected_sha256: Type.String(),
  sha256_match: Nullable(Type.Boolean({ description: 'null when the bytes were not hashed (quick check on load).' })),
});
export type FileCheck = Static<typeof FileCheck>;

export const RequirementCheck = Type.Object({
  requirement: Type.String({ description: 'What the format needs, e.g. "config.json", "tokenizer", "gguf tensor data".' }),
  ok: Type.Boolean(),
  detail: Type.String(),
});
export type RequirementCheck = Static<typeof RequirementCheck>;

export const RepairSummary = Type.Object({
  job_id: Nullable(
    Type.String({ description: 'The hub download job that fetched the files again; null when only snapshot links were rebuilt.' }),
  ),
  repaired: Type.Array(Type.String(), { description: 'Paths put back.' }),
});
export type RepairSummary = Static<typeof RepairSummary>;

export const IntegrityReport = Type.Object({
  model: Type.String(),
  version: Type.Integer(),
  format: ModelFormat,
  check: Type.Union([Type.Literal('full'), Type.Literal('quick')], {
    description: 'full: every byte hashed (validate); quick: presence and sizes only (the check run on every load).',
  }),
  valid: Type.Boolean(),
  checked_at: Type.String(),
  files: Type.Array(FileCheck),
  required: Type.Array(RequirementCheck, { description: 'What the format needs beyond the listed files being intact.' }),
  problems: Type.Array(Type.String(), { description: 'Human-readable; empty when valid.' }),
  repair: Type.Optional(RepairSummary),
});
export type IntegrityReport = Static<typeof IntegrityReport>;

export const ValidateQuery = Type.Object({
  repair: Type.Optional(
    Type.Boolean({ default: false, description: 'Download the bad files again from the hub the version came from, then validate again.' }),
  ),
});
export type ValidateQuery = Static<typeof ValidateQuery>;
