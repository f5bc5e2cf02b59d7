/** Base class of the product's errors: a stable `name`, the original error kept as `cause`. */
export class AutopilotError extends Error {
  override name = "AutopilotError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Input that can never succeed (malformed event, argument, configuration): not retried. */
export class ValidationError extends AutopilotError {
  override name = "ValidationError";
}

/** A condition expected to clear by itself (IAM eventual consistency): retried with back-off. */
export class TransientError extends AutopilotError {
  override name = "TransientError";
}

/**
 * Another writer holds a resource this work shares (a catalog role's lease): the work is tried
 * again later, behind its queue, rather than failed.
 */
export class BusyError extends TransientError {
  override name = "BusyError";
}

/** AWS refused a request for a reason that does not clear by itself (a role EKS cannot use): not retried. */
export class RefusedError extends AutopilotError {
  override name = "RefusedError";
}

/** A change the reconciler could not make; the summary lists it, other clusters go on. */
export class ApplyError extends AutopilotError {
  override name = "ApplyError";
}

/** Message of any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
