import { Command, CommanderError } from "commander";
import { registerCatalog } from "./commands/catalog.js";
import { registerDeletions } from "./commands/deletions.js";
import { registerDemo } from "./commands/demo.js";
import { registerLocalAws } from "./commands/local-aws.js";
import { registerMigrate } from "./commands/migrate.js";
import { registerReconcile } from "./commands/reconcile.js";
import { registerReplay } from "./commands/replay.js";
import { registerTrustLint } from "./commands/trust-lint.js";
import { terminalSafe } from "./terminal.js";

/** Exit codes shared by every podid command (see DESIGN.md, command contract). */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** Raised by a command for unusable arguments: exit 2 with the message. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Builds the command tree; each command sets `process.exitCode` through the returned promise. */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command("podid")
    .description("Amazon EKS Pod Identity, hands-off: lint trust policies, plan, sweep, migrate from IRSA")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError();
  registerTrustLint(program, setExit);
  registerReconcile(program, setExit);
  registerMigrate(program, setExit);
  registerReplay(program, setExit);
  registerDeletions(program, setExit);
  registerLocalAws(program, setExit);
  registerDemo(program, setExit);
  registerCatalog(program, setExit);
  return program;
}

/** Runs podid with argv (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`podid: ${terminalSafe(error.message)}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`podid: ${terminalSafe(error instanceof Error ? error.message : String(error))}\n`);
    return EXIT.failure;
  }
}
