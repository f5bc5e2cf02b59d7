import { ValidationError } from "../../core/errors.js";
import { type MigrationRequest, parseMigrationInput } from "../../core/migration/input.js";

/** Validates the run's input; a ValidationError (the execution fails with it) for anything else. */
export function validate(payload: { input: unknown; migrationId: string }): {
  request: MigrationRequest;
  migrationId: string;
} {
  const parsed = parseMigrationInput(payload.input);
  if (!parsed.ok) throw new ValidationError(`invalid migration input:\n${parsed.error}`);
  return { request: parsed.request, migrationId: payload.migrationId };
}
