import { type ChildProcess, spawn } from "node:child_process";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { describe, expect, it } from "vitest";
import { seedSampleFleet } from "../../local/sample-fleet.js";
import { trustOf } from "../support/irsa.js";
import { ACCOUNT_ID, awsClientsFor, useLocalAccount } from "../support/local-account.js";

const ctx = useLocalAccount();

function start(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  const child = spawn(process.execPath, ["bin/podid.mjs", ...args], {
    env: {
      ...process.env,
      ...ctx.account.env(),
      POWERTOOLS_LOG_LEVEL: "SILENT",
      AWS_MAX_ATTEMPTS: "2",
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => (stdout += d));
  child.stderr?.on("data", (d) => {
    stderr += d;
    (child as unknown as { stderrText?: string }).stderrText = stderr;
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}

const podid = (args: string[]) => start(args).done;

describe("podid migrate", () => {
  it("plan shows what would move, readable and --json, and changes nothing", async () => {
    await seedSampleFleet(awsClientsFor(ctx.account.endpoint), ACCOUNT_ID);

    const readable = await podid(["migrate", "plan", "--cluster", "payments-staging"]);
    const json = await podid(["migrate", "plan", "--cluster", "payments-staging", "--json"]);

    expect(readable.code).toBe(0);
    expect(readable.stdout).toMatch(/reports\/s3-reader.*planned/);
    expect(JSON.parse(json.stdout)).toMatchObject({
      outcome: "dry-run",
      serviceAccounts: [{ namespace: "reports", outcome: "planned" }],
    });
  });

  it("run --dry-run exits 0; run migrates; a failed run exits 1", async () => {
    const clients = awsClientsFor(ctx.account.endpoint);
    await seedSampleFleet(clients, ACCOUNT_ID);
    const before = await trustOf(clients, "reports-s3-reader");

    const dry = await podid(["migrate", "run", "--cluster", "payments-staging", "--dry-run", "--json"]);
    const afterDry = await trustOf(clients, "reports-s3-reader");
    const run = await podid([
      "migrate",
      "run",
      "--cluster",
      "payments-staging",
      "--soak-seconds",
      "0",
      "--approval",
      "none",
      "--json",
    ]);
    const missing = await podid([
      "migrate",
      "run",
      "--cluster",
      "nope",
      "--soak-seconds",
      "0",
      "--approval",
      "none",
    ]);

    expect(dry.code).toBe(0);
    expect(afterDry).toBe(before);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).serviceAccounts[0].outcome).toBe("migrated");
    expect(missing.code).toBe(1);
  });

  it("run waits at the approval gate until podid migrate approve --run ID, which shows the plan", async () => {
    await seedSampleFleet(awsClientsFor(ctx.account.endpoint), ACCOUNT_ID);

    const run = start(["migrate", "run", "--cluster", "payments-staging", "--soak-seconds", "0", "--json"]);
    let runId: string | undefined;
    while (!runId) {
      await new Promise((r) => setTimeout(r, 200));
      runId = /approve --run (\S+)/.exec(
        await new Promise<string>((r) =>
          r((run.child as unknown as { stderrText?: string }).stderrText ?? ""),
        ),
      )?.[1];
    }
    const wrong = await podid(["migrate", "approve", "--run", "payments-staging-1"]);
    const approve = await podid(["migrate", "approve", "--run", runId]);
    const result = await run.done;
    const { Arn } = await awsClientsFor(ctx.account.endpoint).sts.send(new GetCallerIdentityCommand({}));

    expect(wrong.code).toBe(2);
    expect(approve.code).toBe(0);
    expect(approve.stdout).toMatch(/reports\/s3-reader/);
    expect(approve.stdout).toContain(`approved by ${Arn} at `);
    expect(result.code).toBe(0);
    // who approved: the CLI's caller identity and time, recorded with what that is worth
    const report = JSON.parse(result.stdout);
    expect(report.outcome).toBe("succeeded");
    expect(report.approval).toEqual({
      decision: "approved",
      by: Arn,
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      authority: expect.stringMatching(/as stated by the approving client.*CloudTrail/),
    });
  });

  it("reject records who rejected and why; the printed report escapes control characters", async () => {
    await seedSampleFleet(awsClientsFor(ctx.account.endpoint), ACCOUNT_ID);

    const run = start(["migrate", "run", "--cluster", "payments-staging", "--soak-seconds", "0"]);
    let runId: string | undefined;
    while (!runId) {
      await new Promise((r) => setTimeout(r, 200));
      runId = /approve --run (\S+)/.exec(
        (run.child as unknown as { stderrText?: string }).stderrText ?? "",
      )?.[1];
    }
    const tooLong = await podid(["migrate", "reject", "--run", runId, "--reason", "x".repeat(1025)]);
    const reject = await podid(["migrate", "reject", "--run", runId, "--reason", "freeze\u001b[2J"]);
    const result = await run.done;
    const { Arn } = await awsClientsFor(ctx.account.endpoint).sts.send(new GetCallerIdentityCommand({}));

    expect(tooLong.code).toBe(2);
    expect(reject.code).toBe(0);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`Rejected by ${Arn} at `);
    expect(result.stdout).toContain("freeze\\u001b[2J");
    expect(result.stdout).not.toContain("\u001b");
  });

  it("refuses unusable arguments with exit 2", async () => {
    expect((await podid(["migrate", "run", "--cluster", "x", "--approval", "maybe"])).code).toBe(2);
    expect((await podid(["migrate", "run", "--cluster", "x", "--remove-irsa-trust"])).code).toBe(2);
    expect((await podid(["migrate", "run"])).code).toBe(2);
    expect((await podid(["migrate", "reject", "--run", "nobody-waiting"])).code).toBe(2);
    expect((await podid(["migrate", "approve", "--cluster", "x"])).code).toBe(2);
  });
});
