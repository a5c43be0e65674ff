// One error family: stable codes, mapped to HTTP statuses here and to Temporal failures in one place.
export const ERROR_STATUS = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid_transition: 409,
  status_not_available: 409,
  not_pollable: 409,
  not_testable: 409,
  slot_taken: 409,
  missing_fields: 422,
  unknown_partner_value: 422,
  egress_refused: 422,
  credentials_required: 422,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  overloaded: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toJSON(): { error: { code: ErrorCode; message: string; details: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_STATUS, value);
}

/** Errors that mean Temporal or Postgres cannot be reached right now: the caller should retry. */
export function isUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; name?: string; message?: string } | undefined;
  if (!e) return false;
  if (e.name === 'ServiceError' || e.name === 'ConnectionError') return true;
  // Sockets refused, reset, cut or unreachable; Postgres shutting down, starting up or in recovery (57P0x),
  // connection exceptions (08xxx), too many connections while it restarts (53300).
  if (
    typeof e.code === 'string' &&
    /^(ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|57P0[1-4]|08\d{3}|53300)$/.test(
      e.code,
    )
  )
    return true;
  // gRPC UNAVAILABLE (14) and DEADLINE_EXCEEDED (4).
  if (e.code === 14 || e.code === 4) return true;
  // node-postgres' own words for a connection it lost or never got.
  return /timeout exceeded when trying to connect|Connection terminated|not queryable|Client was closed|the database system is/i.test(
    e.message ?? '',
  );
}
