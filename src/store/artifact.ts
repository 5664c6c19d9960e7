// What format detection finds in a folder or file: the artifact's format, its files, its entry and the facts recorded on the version.
import type { ModelFormat } from '../model-shape/model-shape.ts';

export type ArtifactFormat = ModelFormat;

export interface ArtifactFile {
  /** `/`-separated path inside the version. */
  path: string;
  absolutePath: string;
  sizeBytes: number;
}

export interface ArtifactMetadata {
  architecture: string | null;
  parameter_count: number | null;
  context_length: number | null;
  quantization: string | null;
  /** Output size of an embedding model / hidden size of a generator. */
  embedding_length: number | null;
  layer_count: number | null;
  vocab_size: number | null;
  /** Extra facts read from the artifact (model name in the header, ONNX variants present…). */
  extra: Record<string, unknown>;
}

export interface DetectedArtifact {
  format: ArtifactFormat;
  /** The file a runtime opens first: `onnx/model.onnx` or the `.gguf` file. */
  entry: string;
  files: ArtifactFile[];
  metadata: ArtifactMetadata;
}
