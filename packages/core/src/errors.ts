/** Options for {@link ExecutionRejectedError}. */
export interface ExecutionRejectedErrorOptions {
  /** A stable machine-readable code, e.g. `'TIMEOUT'` or `'BROKEN_CIRCUIT'`. */
  readonly code: string;
  /** Milliseconds after which trying again may succeed, when the policy knows. */
  readonly retryAfter?: number | undefined;
  readonly cause?: unknown;
}

/**
 * The base of every rejection a policy makes on its own account (timeout, open circuit, full
 * bulkhead, exhausted budget). The wrapped function's own errors are never wrapped in it.
 * Built only on the failure path.
 */
export class ExecutionRejectedError extends Error {
  override name = 'ExecutionRejectedError';
  /** A stable machine-readable code. */
  readonly code: string;
  /** Milliseconds after which trying again may succeed, when known. */
  readonly retryAfter: number | undefined;

  constructor(message: string, options: ExecutionRejectedErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.retryAfter = options.retryAfter;
  }
}

/** Whether `error` is a rejection made by a faultline policy (as opposed to the call's own error). */
export function isExecutionRejected(error: unknown): error is ExecutionRejectedError {
  return error instanceof ExecutionRejectedError;
}
