import { randomUUID } from "node:crypto";
import { SendTaskFailureCommand, SendTaskSuccessCommand } from "@aws-sdk/client-sfn";
import { type Command, InvalidArgumentError } from "commander";
import { parseMigrationInput } from "../../core/migration/input.js";
import type { MigrationReport } from "../../migration/actions/report.js";
import { createMigrationDeps, type MigrationDeps } from "../../migration/deps.js";
import { runMigrationTask } from "../../migration/index.js";
import { KEYS } from "../../migration/plan.js";
import { type ApprovalDecision, loadMigrationDefinition, runMigrationLocally } from "../migration-runner.js";
import { UsageError } from "../podid.js";
import { renderTable } from "../tables.js";
import { terminalSafe } from "../terminal.js";

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("a whole number");
  return n;
}

/** The readable form of a migration report. */
export function formatReport(report: MigrationReport): string {
  const lines = [`Migration ${report.migrationId} of cluster ${report.clusterName}: ${report.outcome}`];
  lines.push(
    renderTable(
      ["namespace/serviceaccount", "role", "via", "outcome", "why"],
      report.serviceAccounts.map((s) => [
        `${s.namespace}/${s.serviceAccount}`,
        s.role,
        s.addon ? `add-on ${s.addon}` : "association",
        s.outcome,
        (s.reasons ?? []).join("\n"),
      ]),
    ),
  );
  if (report.roles.length > 0) {
    lines.push(
      renderTable(
        ["role", "service accounts", "trust size before → after", "IRSA trust removed"],
        report.roles.map((r) => [
          r.roleName,
          r.serviceAccounts,
          `${r.sizeBefore} → ${r.sizeAfterRemove ?? r.sizeAfterAdd}`,
          r.irsaTrustRemoved ? "yes" : "no",
        ]),
      ),
    );
  }
  for (const w of report.wildcards) {
    lines.push(
      `Role ${w.roleName} trusts "${w.pattern}": ${w.matchedRequested.length ? `migrating ${w.matchedRequested.join(", ")}` : "name its service accounts with --service-account"}`,
    );
  }
  for (const s of report.notFound) lines.push(`${s}: no role trusts it through this cluster's OIDC provider`);
  if (report.error) lines.push(`Error: ${report.error.name}: ${report.error.cause}`);
  if (report.undone) {
    const u = report.undone as {
      restoredRoles: { roleName: string; equal: boolean }[];
      deletedAssociations: string[];
    };
    lines.push(
      `Rolled back: ${u.restoredRoles.map((r) => `${r.roleName} (${r.equal ? "trust policy equal to the original" : "NOT equal"})`).join(", ") || "no role"}; ${u.deletedAssociations.length} association(s) deleted`,
    );
  }
  if (report.nextSteps.length > 0) lines.push("Next:", ...report.nextSteps.map((s) => `  - ${s}`));
  return `${lines.join("\n")}\n`;
}

async function migrationDeps(): Promise<MigrationDeps> {
  // metrics are for the deployed functions; the CLI's stdout is the report
  const { recordOutcome: _metrics, ...deps } = createMigrationDeps(process.env, { endpointOverrides: true });
  await deps.store.ensureTable();
  return deps;
}

function requestFrom(opts: Record<string, unknown>): Record<string, unknown> {
  return {
    clusterName: opts.cluster,
    ...(opts.serviceAccount ? { serviceAccounts: opts.serviceAccount } : {}),
    ...(opts.removeIrsaTrust ? { removeIrsaTrust: true } : {}),
    ...(opts.dryRun ? { dryRun: true } : {}),
    ...(opts.approval ? { approval: opts.approval } : {}),
    ...(opts.soakSeconds !== undefined ? { soakSeconds: opts.soakSeconds } : {}),
    ...(opts.maxConcurrency !== undefined ? { maxConcurrency: opts.maxConcurrency } : {}),
  };
}

async function decide(
  opts: { cluster: string; migration?: string; reason?: string },
  decision: ApprovalDecision["decision"],
): Promise<string> {
  const deps = await migrationDeps();
  const pending = await deps.store.get<{ migrationId: string; taskToken: string }>(
    `pending#${opts.cluster}`,
    "approval",
  );
  const migrationId = opts.migration ?? pending?.migrationId;
  if (!migrationId) throw new UsageError(`no migration of cluster ${opts.cluster} is waiting for approval`);
  const approval = await deps.store.get<{ taskToken: string }>(migrationId, KEYS.approval);
  if (!approval) throw new UsageError(`migration ${migrationId} is not waiting for approval`);
  await deps.store.put(migrationId, `${KEYS.approval}#decision`, {
    decision,
    ...(opts.reason ? { reason: opts.reason } : {}),
  });
  if (!approval.taskToken.startsWith("local:")) {
    if (decision === "approved") {
      await deps.clients.sfn.send(
        new SendTaskSuccessCommand({
          taskToken: approval.taskToken,
          output: JSON.stringify({ approved: true }),
        }),
      );
    } else {
      await deps.clients.sfn.send(
        new SendTaskFailureCommand({
          taskToken: approval.taskToken,
          error: "MigrationRejected",
          cause: opts.reason ?? "rejected",
        }),
      );
    }
  }
  return migrationId;
}

/** `podid migrate plan|run|approve|reject` */
export function registerMigrate(program: Command, setExit: (code: number) => void): void {
  const migrate = program
    .command("migrate")
    .description("staged IRSA → EKS Pod Identity migration of one cluster");
  migrate
    .command("plan")
    .description("discover and preflight: what a migration would do")
    .requiredOption("--cluster <name>", "the cluster")
    .option("--service-account <ns/sa>", "only this service account (repeatable)", collect)
    .option("--remove-irsa-trust", "plan the IRSA trust removal too")
    .option("--json", "machine-readable output")
    .action(async (opts: Record<string, unknown>) => {
      const parsed = parseMigrationInput({ ...requestFrom(opts), dryRun: true });
      if (!parsed.ok) throw new UsageError(parsed.error);
      const deps = await migrationDeps();
      const migrationId = `plan-${randomUUID()}`;
      const task = { migrationId, request: parsed.request };
      await runMigrationTask(deps, { action: "discover", ...task });
      await runMigrationTask(deps, { action: "preflight", ...task });
      const report = (await runMigrationTask(deps, {
        action: "report",
        ...task,
        outcome: "dry-run",
      })) as MigrationReport;
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : terminalSafe(formatReport(report)));
      setExit(0);
    });
  migrate
    .command("run")
    .description("run the migration state machine locally against the AWS the SDK points at")
    .requiredOption("--cluster <name>", "the cluster")
    .option("--service-account <ns/sa>", "only this service account (repeatable)", collect)
    .option("--remove-irsa-trust", "also remove this cluster's IRSA trust for the migrated service accounts")
    .option("--dry-run", "stop after preflight with the full plan")
    .option("--soak-seconds <n>", "wait between associating and verifying (default 300)", wholeNumber)
    .option("--max-concurrency <n>", "parallel writers (default 4)", wholeNumber)
    .option("--approval <mode>", "none or task-token (wait for podid migrate approve)")
    .option("--json", "print the report as JSON")
    .action(async (opts: Record<string, unknown>) => {
      const parsed = parseMigrationInput(requestFrom(opts));
      if (!parsed.ok) throw new UsageError(parsed.error);
      const deps = await migrationDeps();
      const migrationId = `${parsed.request.clusterName}-${Date.now()}`;
      const result = await runMigrationLocally({
        definition: loadMigrationDefinition(),
        deps,
        input: requestFrom(opts),
        migrationId,
        onWaitingForApproval: (id) =>
          process.stderr.write(
            `Waiting for approval of ${id}: podid migrate approve --cluster ${parsed.request.clusterName} (or reject)\n`,
          ),
      });
      if (result.report)
        process.stdout.write(
          opts.json ? `${JSON.stringify(result.report)}\n` : terminalSafe(formatReport(result.report)),
        );
      if (result.error && !result.report)
        process.stderr.write(
          terminalSafe(`podid: migration failed: ${result.error.name}: ${result.error.cause}\n`),
        );
      const ok = result.status === "succeeded";
      setExit(ok ? 0 : 1);
    });
  for (const [name, decision] of [
    ["approve", "approved"],
    ["reject", "rejected"],
  ] as const) {
    migrate
      .command(name)
      .description(`${name} the migration of a cluster waiting at its approval gate`)
      .requiredOption("--cluster <name>", "the cluster")
      .option("--migration <id>", "the migration id (default: the one waiting for this cluster)")
      .option("--reason <text>", "why (recorded)")
      .action(async (opts: { cluster: string; migration?: string; reason?: string }) => {
        const id = await decide(opts, decision);
        process.stdout.write(`Migration ${id}: ${decision}.\n`);
        setExit(0);
      });
  }
}
