/**
 * A failure a person can act on. `message` never contains a secret; `hint` says what to do.
 * `retryable` marks transient failures (network, 5xx, 429) that the retry helper may repeat.
 */
export class RotationError extends Error {
  readonly hint?: string;
  readonly retryable: boolean;
  readonly code?: string;

  constructor(message: string, options: { hint?: string; retryable?: boolean; code?: string; cause?: unknown } = {}) {
    super(message);
    this.name = 'RotationError';
    this.hint = options.hint;
    this.retryable = options.retryable ?? false;
    this.code = options.code;
    // The cause is kept off the enumerable properties: driver errors can carry connection details.
    if (options.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false });
  }
}

/** The message of any thrown value, for logs (scrubbed again by the reporter). */
export function describeError(error: unknown): string {
  if (error instanceof RotationError) return error.hint ? `${error.message}. ${error.hint}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
