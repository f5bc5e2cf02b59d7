import { SendTaskFailureCommand, SendTaskSuccessCommand } from "@aws-sdk/client-sfn";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { type Command, InvalidArgumentError } from "commander";
import {
  finalizeInputSchema,
  migrationInputSchema,
  rollbackInputSchema,
} from "../../core/migration/input.js";
import type { FinalizeReport } from "../../migration/actions/finalize.js";
import type { MigrationReport } from "../../migration/actions/report.js";
import type { RollbackReport } from "../../migration/actions/rollback.js";
import {
  APPROVAL_AUTHORITY,
  approvalDecisionSchema,
  approvalOutput,
  type RecordedApproval,
  rejectionCause,
} from "../../migration/approval.js";
import { executionArnOf, runKeyOf } from "../../migration/authority.js";
import { createMigrationDeps, localMigrationEnv, type MigrationDeps } from "../../migration/deps.js";
import { KEYS, type MigrationPlan, planHash } from "../../migration/plan.js";
import {
  type ApprovalDecision,
  finalizeLocally,
  loadMigrationDefinition,
  rollbackLocally,
  runMigrationLocally,
} from "../migration-runner.js";
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
      report.serviceAccounts
        .slice(0, 500)
        .map((s) => [
          `${s.namespace}/${s.serviceAccount}`,
          s.role,
          s.addon ? `add-on ${s.addon}` : "association",
          s.outcome,
          (s.reasons ?? []).join("\n"),
        ]),
    ),
  );
  if (report.serviceAccounts.length > 500)
    lines.push(`… and ${report.serviceAccounts.length - 500} more (see --json)`);
  if (report.roles.length > 0) {
    lines.push(
      renderTable(
        ["role", "service accounts", "trust size before → after", "scoped Pod Identity statements added"],
        report.roles
          .slice(0, 200)
          .map((r) => [
            r.roleName,
            r.serviceAccounts,
            `${r.sizeBefore} → ${r.sizeAfterAdd}`,
            r.statementsAdded,
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
  if (report.approval) lines.push(formatApproval(report.approval));
  if (report.error) lines.push(`Error: ${report.error.name}: ${report.error.cause}`);
  if (report.undone) lines.push(...formatRollback(report.undone));
  if (report.nextSteps.length > 0) lines.push("Next:", ...report.nextSteps.map((s) => `  - ${s}`));
  return `${lines.join("\n")}\n`;
}

function formatApproval(a: RecordedApproval): string {
  if (a.invalid)
    return `Approval record unreadable (${a.invalid}): see CloudTrail's SendTaskSuccess/SendTaskFailure event`;
  return `${a.decision === "approved" ? "Approved" : "Rejected"} by ${a.by} at ${a.at}${a.reason ? ` (${a.reason})` : ""}: ${a.authority}`;
}

function formatRollback(r: RollbackReport): string[] {
  const lines = [
    `Rollback of ${r.runId}: ${r.complete ? "complete" : "INCOMPLETE"}; statements removed from ${r.undoneRoles.join(", ") || "no role"}; ${r.deletedAssociations.length} association(s) deleted; add-on service accounts given back: ${r.restoredAddons.join(", ") || "none"}`,
  ];
  if (r.agent)
    lines.push(
      `  add-on eks-pod-identity-agent (this run asked to install it): ${r.agent.action}: ${r.agent.reason}`,
    );
  for (const i of r.incomplete)
    lines.push(`  not undone: ${i.what}:`, ...i.difference.map((d) => `    ${d}`));
  return lines;
}

/** The readable form of a finalize report. */
export function formatFinalize(report: FinalizeReport & { outcome: string }): string {
  const lines = [`Finalize ${report.runId} of cluster ${report.clusterName}: ${report.outcome}`];
  lines.push(
    renderTable(
      ["namespace/serviceaccount", "role", "IRSA trust", "last IRSA use", "last Pod Identity use", "why"],
      (report.decisions ?? [])
        .slice(0, 500)
        .map((d) => [
          `${d.namespace}/${d.serviceAccount}`,
          d.roleName,
          d.removed ? "removed" : "kept",
          d.lastIrsaUse ?? "none in window",
          d.lastPodIdentityUse ?? "none seen",
          d.error ? `${d.reason}; ${d.error}` : d.reason,
        ]),
    ),
  );
  for (const s of report.notMigrated ?? [])
    lines.push(`${s}: still on IRSA, no Pod Identity association with its role (run the migration first)`);
  return `${lines.join("\n")}\n`;
}

function isLocal(): boolean {
  const endpoint = process.env.AWS_ENDPOINT_URL ?? "";
  return process.env.PODID_LOCAL === "1" || /^https?:\/\/(127\.|localhost|\[::1\])/.test(endpoint);
}

async function migrationDeps(): Promise<MigrationDeps> {
  const env = { ...process.env };
  if (!env.MIGRATION_STATE_MACHINE_ARN) {
    const probe = createMigrationDeps(
      { ...env, ...localMigrationEnv("000000000000", "us-east-1") },
      { endpointOverrides: true },
    );
    const { Account } = await probe.clients.sts.send(new GetCallerIdentityCommand({}));
    const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1";
    const local = localMigrationEnv(Account ?? "000000000000", region);
    for (const [k, v] of Object.entries(local)) env[k] ??= v;
  }
  // metrics are for the deployed functions; the CLI's stdout is the report
  const { recordOutcome: _metrics, ...deps } = createMigrationDeps(env, { endpointOverrides: true });
  if (isLocal()) await deps.store.ensureTable();
  return deps;
}

function runRequest(opts: Record<string, unknown>): Record<string, unknown> {
  return {
    clusterName: opts.cluster,
    ...(opts.serviceAccount ? { serviceAccounts: opts.serviceAccount } : {}),
    ...(opts.dryRun ? { dryRun: true } : {}),
    ...(opts.soakSeconds !== undefined ? { soakSeconds: opts.soakSeconds } : {}),
    ...(opts.maxConcurrency !== undefined ? { maxConcurrency: opts.maxConcurrency } : {}),
  };
}

function parsed<T>(
  schema: {
    safeParse(v: unknown): {
      success: boolean;
      error?: { issues: { path: PropertyKey[]; message: string }[] };
    };
  },
  value: unknown,
): T {
  const out = schema.safeParse(value);
  if (!out.success)
    throw new UsageError(
      (out.error?.issues ?? []).map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; "),
    );
  return value as T;
}

async function decide(opts: { run: string; reason?: string }, decision: ApprovalDecision["decision"]) {
  const deps = await migrationDeps();
  const arn = executionArnOf(deps.stateMachines.run, opts.run);
  const execution = await deps.executions.describe(arn);
  if (execution?.status !== "RUNNING") throw new UsageError(`run ${opts.run} is not running`);
  const runKey = runKeyOf(execution);
  const approval = await deps.store.get<{ taskToken: string; planHash: string; executionArn: string }>(
    runKey,
    KEYS.approval,
  );
  if (!approval || approval.executionArn !== arn)
    throw new UsageError(`run ${opts.run} is not waiting for approval`);
  const plan = await deps.store.getLarge<MigrationPlan>(runKey, KEYS.plan);
  if (!plan || planHash(plan) !== approval.planHash)
    throw new UsageError(
      `refusing: the plan stored for run ${opts.run} is not the plan it asked approval for`,
    );
  // who decides: the caller identity of these credentials, as this client states it (CloudTrail's
  // SendTaskSuccess/SendTaskFailure event is the authoritative record)
  const { Arn } = await deps.clients.sts.send(new GetCallerIdentityCommand({}));
  const record = approvalDecisionSchema.safeParse({
    decision,
    by: Arn,
    at: new Date().toISOString(),
    ...(opts.reason ? { reason: opts.reason } : {}),
  });
  if (!record.success)
    throw new UsageError(
      `cannot record the decision: ${record.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  process.stdout.write(
    terminalSafe(
      `Run ${opts.run} of cluster ${plan.clusterName} (plan ${approval.planHash}):\n${renderTable(
        ["namespace/serviceaccount", "role", "via"],
        plan.ready
          .slice(0, 500)
          .map((i) => [
            `${i.namespace}/${i.serviceAccount}`,
            i.roleName,
            i.addonName ? `add-on ${i.addonName}` : "association",
          ]),
      )}\n${plan.roleEdits.length} role(s) get scoped Pod Identity trust; ${plan.refused.length} service account(s) refused; agent: ${plan.agent}\n`,
    ),
  );
  // recorded first (a rejected run reports at once); taken back when Step Functions refuses it
  await deps.store.put(runKey, KEYS.decision, record.data);
  if (approval.taskToken.startsWith("local:")) return record.data;
  try {
    if (decision === "approved")
      await deps.clients.sfn.send(
        new SendTaskSuccessCommand({
          taskToken: approval.taskToken,
          output: JSON.stringify(approvalOutput(record.data)),
        }),
      );
    else
      await deps.clients.sfn.send(
        new SendTaskFailureCommand({
          taskToken: approval.taskToken,
          error: "MigrationRejected",
          cause: rejectionCause(record.data),
        }),
      );
  } catch (error) {
    await deps.store.delete(runKey, KEYS.decision);
    throw error;
  }
  return record.data;
}

/** `podid migrate plan|run|approve|reject|finalize|rollback` */
export function registerMigrate(program: Command, setExit: (code: number) => void): void {
  const migrate = program
    .command("migrate")
    .description("staged IRSA → EKS Pod Identity migration of one cluster");
  migrate
    .command("plan")
    .description("discover and preflight: what a migration would do (a dry-run execution)")
    .requiredOption("--cluster <name>", "the cluster")
    .option("--service-account <ns/sa>", "only this service account (repeatable)", collect)
    .option("--json", "machine-readable output")
    .action(async (opts: Record<string, unknown>) => {
      const input = parsed<Record<string, unknown>>(migrationInputSchema, {
        ...runRequest(opts),
        dryRun: true,
      });
      const deps = await migrationDeps();
      const result = await runMigrationLocally({
        definition: loadMigrationDefinition("run"),
        deps,
        input,
        migrationId: `plan-${opts.cluster}-${Date.now()}`,
      });
      if (!result.report) throw new Error(`plan failed: ${result.error?.name}: ${result.error?.cause}`);
      process.stdout.write(
        opts.json ? `${JSON.stringify(result.report)}\n` : terminalSafe(formatReport(result.report)),
      );
      setExit(0);
    });
  migrate
    .command("run")
    .description(
      "run the migration state machine locally against the AWS the SDK points at (never removes IRSA trust)",
    )
    .requiredOption("--cluster <name>", "the cluster")
    .option("--service-account <ns/sa>", "only this service account (repeatable)", collect)
    .option("--dry-run", "stop after preflight with the full plan")
    .option("--soak-seconds <n>", "wait between associating and verifying (default 300)", wholeNumber)
    .option("--max-concurrency <n>", "parallel writers (default 4)", wholeNumber)
    .option(
      "--approval <mode>",
      "wait (default: wait for podid migrate approve --run ID) or none (local account only)",
    )
    .option("--json", "print the report as JSON")
    .action(async (opts: Record<string, unknown>) => {
      const input = parsed<Record<string, unknown>>(migrationInputSchema, runRequest(opts));
      if (opts.approval !== undefined && opts.approval !== "wait" && opts.approval !== "none")
        throw new UsageError("--approval is wait or none");
      if (opts.approval === "none" && !isLocal())
        throw new UsageError(
          "--approval none is for the local account only: a run against AWS always waits for approval",
        );
      const deps = await migrationDeps();
      const migrationId = `${opts.cluster}-${Date.now()}`;
      const result = await runMigrationLocally({
        definition: loadMigrationDefinition("run"),
        deps,
        input,
        migrationId,
        autoApprove: opts.approval === "none",
        onWaitingForApproval: (id) =>
          process.stderr.write(`Waiting for approval: podid migrate approve --run ${id} (or reject)\n`),
      });
      if (result.report)
        process.stdout.write(
          opts.json ? `${JSON.stringify(result.report)}\n` : terminalSafe(formatReport(result.report)),
        );
      if (result.error && !result.report)
        process.stderr.write(
          terminalSafe(`podid: migration failed: ${result.error.name}: ${result.error.cause}\n`),
        );
      setExit(result.status === "succeeded" ? 0 : 1);
    });
  for (const [name, decision] of [
    ["approve", "approved"],
    ["reject", "rejected"],
  ] as const) {
    migrate
      .command(name)
      .description(`${name} a run waiting at its approval gate (shows the plan it approves)`)
      .requiredOption("--run <id>", "the run (execution name)")
      .option("--reason <text>", "why (recorded)")
      .action(async (opts: { run: string; reason?: string }) => {
        const recorded = await decide(opts, decision);
        process.stdout.write(
          terminalSafe(
            `Run ${opts.run}: ${decision} by ${recorded.by} at ${recorded.at} (${APPROVAL_AUTHORITY}).\n`,
          ),
        );
        setExit(0);
      });
  }
  migrate
    .command("finalize")
    .description(
      "remove this cluster's IRSA trust for migrated service accounts where CloudTrail shows no IRSA use",
    )
    .requiredOption("--cluster <name>", "the cluster")
    .option("--service-account <ns/sa>", "only this service account (repeatable)", collect)
    .option("--quiet-seconds <n>", "quiet window (default: the role's MaxSessionDuration)", wholeNumber)
    .option(
      "--evidence-lag-seconds <n>",
      "CloudTrail delivery delay not counted as evidence (default 900)",
      wholeNumber,
    )
    .option("--json", "print the report as JSON")
    .action(async (opts: Record<string, unknown>) => {
      const input = parsed<Record<string, unknown>>(finalizeInputSchema, {
        clusterName: opts.cluster,
        ...(opts.serviceAccount ? { serviceAccounts: opts.serviceAccount } : {}),
        ...(opts.quietSeconds !== undefined ? { quietSeconds: opts.quietSeconds } : {}),
        ...(opts.evidenceLagSeconds !== undefined ? { evidenceLagSeconds: opts.evidenceLagSeconds } : {}),
      });
      const deps = await migrationDeps();
      const result = await finalizeLocally({
        definition: loadMigrationDefinition("finalize"),
        deps,
        input,
        migrationId: `finalize-${opts.cluster}-${Date.now()}`,
      });
      if (result.report)
        process.stdout.write(
          opts.json ? `${JSON.stringify(result.report)}\n` : terminalSafe(formatFinalize(result.report)),
        );
      else
        process.stderr.write(
          terminalSafe(`podid: finalize failed: ${result.error?.name}: ${result.error?.cause}\n`),
        );
      setExit(result.status === "succeeded" ? 0 : 1);
    });
  migrate
    .command("rollback")
    .description("undo a finished run's own edits (compensating, never a snapshot)")
    .requiredOption("--cluster <name>", "the cluster")
    .requiredOption("--run <id>", "the run (execution name)")
    .option("--json", "print the report as JSON")
    .action(async (opts: Record<string, unknown>) => {
      const input = parsed<Record<string, unknown>>(rollbackInputSchema, {
        clusterName: opts.cluster,
        runId: opts.run,
      });
      const deps = await migrationDeps();
      const result = await rollbackLocally({
        definition: loadMigrationDefinition("rollback"),
        deps,
        input,
        migrationId: `rollback-${opts.run}-${Date.now()}`.slice(0, 80),
      });
      if (result.report) {
        const r = result.report;
        process.stdout.write(
          opts.json
            ? `${JSON.stringify(r)}\n`
            : terminalSafe(
                `${[`Rollback of ${opts.run}: ${r.outcome}`, ...(r.runId ? formatRollback(r) : [])].join("\n")}\n`,
              ),
        );
      } else
        process.stderr.write(
          terminalSafe(`podid: rollback failed: ${result.error?.name}: ${result.error?.cause}\n`),
        );
      setExit(result.status === "succeeded" ? 0 : 1);
    });
}
