// Typed domain errors: every error code is defined once in ERROR_CODES (its kind and meaning); HTTP maps kinds to statuses.

/** What kind of failure an error is, independent of any transport (http/error-status.ts maps kinds to statuses). */
export type ErrorKind =
  | 'invalid_input'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'rate_limited'
  | 'internal'
  | 'upstream'
  | 'unavailable'
  | 'insufficient_storage'
  | 'not_implemented';

const kind = <K extends ErrorKind>(k: K, meaning: string) => ({ kind: k, meaning });

/** Every error code a client can receive, with its kind and what it means (the README's error table reads the same). */
export const ERROR_CODES = {
  // invalid input
  invalid_input: kind('invalid_input', 'The request is malformed or a value is out of range.'),
  validation_error: kind('invalid_input', 'The request does not match the route schema; details name the field.'),
  bad_request: kind('invalid_input', 'The HTTP request itself is malformed.'),
  invalid_json: kind('invalid_input', 'The body is not valid JSON.'),
  invalid_model_name: kind('invalid_input', 'A model name or ref breaks the naming rules.'),
  invalid_alias: kind('invalid_input', 'An alias name breaks the naming rules.'),
  invalid_tenant_name: kind('invalid_input', 'A tenant name breaks the naming rules (lower-case letters, digits, "-"; at most 30).'),
  invalid_keep_alive: kind('invalid_input', 'keep_alive is not a duration.'),
  invalid_context_size: kind('invalid_input', 'The context size is not usable for this model.'),
  invalid_page_token: kind('invalid_input', 'The page token was not issued by this server.'),
  invalid_path: kind('invalid_input', 'A server-side path is not usable.'),
  invalid_artifact_path: kind('invalid_input', 'The import path holds nothing Hangar can import.'),
  invalid_role: kind('invalid_input', 'Unknown API key role.'),
  invalid_expiry: kind('invalid_input', 'An API key expiry is not a future time.'),
  invalid_config: kind('invalid_input', 'A configuration change does not validate.'),
  invalid_repo_id: kind('invalid_input', 'Not a hub repo id (org/name).'),
  invalid_webhook_url: kind('invalid_input', 'A webhook URL is not http(s).'),
  invalid_webhook_secret: kind('invalid_input', 'A webhook secret is too short.'),
  invalid_webhook_events: kind('invalid_input', 'A webhook subscribes to unknown event types.'),
  unknown_variant: kind('invalid_input', 'The hub repo has no such variant.'),
  blob_digest_mismatch: kind('invalid_input', 'The uploaded bytes do not hash to the digest in the path.'),
  invalid_variant: kind('invalid_input', 'The variant asked for does not fit the request.'),
  unsupported_format: kind('invalid_input', 'The artifact is in a format Hangar cannot serve.'),
  invalid_quantization_type: kind('invalid_input', 'Not a quantization type for the model format; valid lists them.'),
  invalid_gguf: kind('invalid_input', 'The file is not a readable GGUF (not GGUF at all, or truncated); the message says which.'),
  unsupported_operation: kind('invalid_input', 'The model cannot do what was asked (e.g. generate with an embedding model).'),
  unsupported_parameter: kind(
    'invalid_input',
    'A compatible-API field or value Hangar does not support (e.g. n > 1 on /v1); param names it.',
  ),
  context_overflow: kind('invalid_input', 'The input does not fit the model context.'),
  payload_too_large: kind('invalid_input', 'The body is over the configured limit.'),
  unsupported_media_type: kind('invalid_input', 'The body is not JSON.'),
  method_not_allowed: kind('invalid_input', 'The route does not take this method.'),
  request_timeout: kind('invalid_input', 'The client did not send the request in time.'),
  path_parameter_too_long: kind('invalid_input', 'A path parameter is longer than any valid value.'),
  // authentication and authorisation
  unauthorized: kind('unauthenticated', 'An API key is missing, invalid, expired or revoked.'),
  forbidden: kind('forbidden', 'The API key role may not do this.'),
  hub_access_denied: kind('forbidden', 'The hub refused access (gated or private repo; check HF_TOKEN).'),
  // not found
  not_found: kind('not_found', 'The thing asked for does not exist.'),
  route_not_found: kind('not_found', 'No such route.'),
  model_not_found: kind('not_found', 'No such model.'),
  version_not_found: kind('not_found', 'No such version or alias of the model.'),
  no_production_version: kind('not_found', 'The model has no production version.'),
  key_not_found: kind('not_found', 'No such API key.'),
  tenant_not_found: kind('not_found', 'No such tenant.'),
  webhook_not_found: kind('not_found', 'No such webhook.'),
  job_not_found: kind('not_found', 'No such job.'),
  hub_repo_not_found: kind('not_found', 'The hub has no such repo (or it is private).'),
  hub_revision_not_found: kind('not_found', 'The hub repo has no such revision.'),
  hub_file_not_found: kind('not_found', 'The hub repo has no such file.'),
  alias_not_found: kind('not_found', 'The model has no such alias.'),
  not_validated: kind('not_found', 'The version has no integrity verdict yet.'),
  blob_not_found: kind('not_found', 'No stored blob has that digest (upload it with POST /api/blobs/sha256:<digest>).'),
  no_ollama_backend: kind('not_found', 'A library name (no "/") pulls through an Ollama server, and none is configured (OLLAMA_BASE_URL).'),
  // conflicts with the current state
  conflict: kind('conflict', 'The request conflicts with the current state.'),
  model_loaded: kind('conflict', 'The model is loaded; unload it or force the delete.'),
  model_not_loaded: kind('conflict', 'The model is not loaded and dynamic loading is off.'),
  version_not_loaded: kind('conflict', 'Another version of the model is loaded.'),
  version_conflict: kind('conflict', 'Production moved since expected_current_version was read.'),
  no_previous_version: kind('conflict', 'There is no earlier production version to roll back to.'),
  insufficient_memory: kind('conflict', 'The load does not fit memory and nothing idle can be evicted.'),
  no_gpu: kind('conflict', 'A GPU was asked for and none can be used.'),
  no_backend: kind(
    'conflict',
    'No backend of this Hangar serves the model format (safetensors, diffusers); the message names the backends there are.',
  ),
  integrity_failed: kind('conflict', 'The version failed validation; repair or re-import it.'),
  not_repairable: kind('conflict', 'The version has no hub source to repair from.'),
  key_exists: kind('conflict', 'An API key of that name exists.'),
  tenant_exists: kind('conflict', 'A tenant of that name exists.'),
  tenant_not_empty: kind('conflict', 'The tenant still owns models, active keys or webhooks; remove them first.'),
  quota_exceeded: kind('conflict', 'The change would take the tenant past a quota; details name it, its limit and the current use.'),
  job_finished: kind('conflict', 'The job has already finished.'),
  job_not_pausable: kind('conflict', 'The job cannot be paused (a quantization): cancel it instead.'),
  already_quantized: kind('conflict', 'The source is already quantized; quantize from a full-precision (F32/F16/BF16, fp32) version.'),
  // requests that are well-formed but cannot be served
  unsupported_repo: kind('unprocessable', 'The hub repo has no weights Hangar can run.'),
  load_failed: kind('unprocessable', 'The runtime could not load the model; the message has its reason.'),
  quantization_failed: kind(
    'unprocessable',
    "The quantizer refused the model; the message has its reason (llama.cpp's own line for GGUF).",
  ),
  // rate limits
  rate_limited: kind('rate_limited', 'Too many requests; retry after the time given.'),
  auth_rate_limited: kind(
    'rate_limited',
    'Too many failed authentications from this client address; every request needing a key is refused until Retry-After.',
  ),
  // internal failures (details stay in the log)
  internal_error: kind('internal', 'An unexpected failure; the log has the details for the request id.'),
  runtime_error: kind('internal', 'The runtime failed while serving the request.'),
  download_incomplete: kind('internal', 'A downloaded file went missing before it was stored.'),
  // failures of something Hangar depends on
  runner_crashed: kind('upstream', 'The runner process stopped while serving the request.'),
  hub_error: kind('upstream', 'The hub answered with an error.'),
  hub_unreachable: kind('upstream', 'The hub cannot be reached.'),
  hub_bad_gguf: kind('upstream', 'A hub file has no readable GGUF header.'),
  checksum_mismatch: kind('upstream', 'The hub kept sending bytes that do not match their checksum.'),
  download_failed: kind('upstream', 'A download failed after every retry.'),
  hub_download_failed: kind('upstream', 'The hub refused a file download.'),
  hub_no_range_support: kind('upstream', 'The hub ignored a byte range, so the download cannot resume.'),
  hub_file_changed: kind('upstream', 'The hub reports a different size than its listing.'),
  repair_failed: kind('upstream', 'The repair job did not finish.'),
  ollama_unreachable: kind('upstream', 'An Ollama server (OLLAMA_BASE_URL) cannot be reached; the message names it.'),
  ollama_error: kind('upstream', 'An Ollama server answered with an error; the message names it.'),
  // temporarily unavailable
  service_unavailable: kind('unavailable', 'The service cannot take the request now.'),
  shutting_down: kind('unavailable', 'The server is shutting down.'),
  management_api_disabled: kind('unavailable', 'The management API is switched off (MANAGEMENT_API_ENABLED=false).'),
  model_unloading: kind('unavailable', 'The model is being unloaded.'),
  model_unavailable: kind('unavailable', 'The model stopped before the request could run.'),
  overloaded: kind('unavailable', 'The model queue is full.'),
  queue_full: kind('unavailable', 'The model queue is full.'),
  // storage
  insufficient_storage: kind('insufficient_storage', 'Not enough free disk for the artifact.'),
  // operations Hangar does not offer (yet)
  not_implemented: kind('not_implemented', 'Not available yet (LoRA adapters).'),
  not_supported: kind('not_implemented', 'Hangar does not offer this operation (pushing to a registry).'),
} as const satisfies Record<string, { kind: ErrorKind; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
/** The codes of one kind, so each error class accepts only codes that mean what it means. */
export type CodeOfKind<K extends ErrorKind> = {
  [C in ErrorCode]: (typeof ERROR_CODES)[C]['kind'] extends K ? C : never;
}[ErrorCode];

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** Base class: a stable machine-readable `code` (whose kind the table gives) and optional details. */
export class HangarError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }

  get kind(): ErrorKind {
    return ERROR_CODES[this.code].kind;
  }
}

export class InvalidInput extends HangarError {
  constructor(message: string, details?: Record<string, unknown>, code: CodeOfKind<'invalid_input'> = 'invalid_input') {
    super(code, message, details);
  }
}

export class NotFound extends HangarError {
  constructor(message: string, details?: Record<string, unknown>, code: CodeOfKind<'not_found'> = 'not_found') {
    super(code, message, details);
  }
}

export class Conflict extends HangarError {
  constructor(message: string, details?: Record<string, unknown>, code: CodeOfKind<'conflict'> = 'conflict') {
    super(code, message, details);
  }
}

export class InsufficientStorage extends HangarError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('insufficient_storage', message, details);
  }
}

export class ServiceUnavailable extends HangarError {
  constructor(message: string, details?: Record<string, unknown>, code: CodeOfKind<'unavailable'> = 'service_unavailable') {
    super(code, message, details);
  }
}

/** Configuration that cannot be used; start-up stops with this message. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
