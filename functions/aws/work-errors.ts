import { ValidationError } from "../core/errors.js";

/** The work-queue functions' configuration is unusable (missing queue or table names). */
export class WorkConfigurationError extends ValidationError {
  override name = "WorkConfigurationError";
}
