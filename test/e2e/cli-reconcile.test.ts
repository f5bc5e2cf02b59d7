import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { seedSampleFleet } from "../../local/sample-fleet.js";
import { ACCOUNT_ID, awsClientsFor, useLocalAccount, writeCalls } from "../support/local-account.js";

const ctx = useLocalAccount();

/** Runs the built CLI against the local account through the SDK's standard endpoint settings. */
function podid(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/podid.mjs", ...args], {
      env: { ...process.env, ...ctx.account.env() },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("podid plan and podid sweep", () => {
  it("plan exits 2 on drift and prints the changes, without writing", async () => {
    await seedSampleFleet(awsClientsFor(ctx.account.endpoint), ACCOUNT_ID);
    await ctx.account.resetCalls();

    const readable = await podid(["plan"]);
    const json = await podid(["plan", "--json"]);

    expect(readable.code).toBe(2);
    expect(readable.stdout).toMatch(/create.*payments-prod.*orders\/orders-api/s);
    expect(JSON.parse(json.stdout)).toMatchObject({
      dryRun: true,
      changes: expect.arrayContaining([expect.objectContaining({ kind: "create" })]),
    });
    expect(writeCalls((await ctx.account.calls()).calls)).toEqual({});
  });

  it("sweep --dry-run changes nothing; sweep converges; plan then exits 0", async () => {
    await seedSampleFleet(awsClientsFor(ctx.account.endpoint), ACCOUNT_ID);

    const dry = await podid(["sweep", "--dry-run", "--json"]);
    const sweep = await podid(["sweep", "--json"]);
    const plan = await podid(["plan"]);

    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, created: 0 });
    expect(sweep.code).toBe(0);
    expect(JSON.parse(sweep.stdout)).toMatchObject({ handled: true, drain: { failedItems: 0 } });
    expect(JSON.parse(sweep.stdout).changes.created).toHaveLength(8);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/no changes/);
  });

  it("exits 1 when AWS cannot be reached", async () => {
    const child = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, ["bin/podid.mjs", "plan"], {
        env: {
          ...process.env,
          ...ctx.account.env(),
          AWS_ENDPOINT_URL: "http://127.0.0.1:9",
          AWS_MAX_ATTEMPTS: "1",
        },
      });
      let stderr = "";
      p.stderr.on("data", (d) => (stderr += d));
      p.on("close", (code) => resolve({ code, stderr }));
    });
    expect(child.code).toBe(1);
    expect(child.stderr).toMatch(/podid:/);
  });
});
