// Typed domain errors: thrown by domain code, mapped to HTTP once by the error-handler plugin.

/** Base class: a stable machine-readable `code`, the HTTP status it maps to, and optional details. */
export class HangarError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly details?: Record<string, unknown>;

  constructor(code: string, statusCode: number, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.statusCode = statusCode;
    this.details = details;
  }
}

export class InvalidInput extends HangarError {
  constructor(message: string, details?: Record<string, unknown>, code = 'invalid_input') {
    super(code, 400, message, details);
  }
}

export class NotFound extends HangarError {
  constructor(message: string, details?: Record<string, unknown>, code = 'not_found') {
    super(code, 404, message, details);
  }
}

export class Conflict extends HangarError {
  constructor(message: string, details?: Record<string, unknown>, code = 'conflict') {
    super(code, 409, message, details);
  }
}

export class InsufficientStorage extends HangarError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('insufficient_storage', 507, message, details);
  }
}

export class ServiceUnavailable extends HangarError {
  constructor(message: string, details?: Record<string, unknown>, code = 'service_unavailable') {
    super(code, 503, message, details);
  }
}

/** Configuration that cannot be used; start-up stops with this message. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
