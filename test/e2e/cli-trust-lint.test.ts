import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ACCOUNT,
  irsaStatement,
  podsStatement,
  policy,
  SEED_POD_IDENTITY,
  SEED_RESTRICTED,
} from "../support/policies.js";

/** Runs the built CLI (dist/cli/podid.mjs through bin/podid.mjs). */
function podid(args: string[], input?: string) {
  const res = spawnSync(process.execPath, ["bin/podid.mjs", ...args], { input, encoding: "utf8" });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

function file(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), "podid-"));
  const path = join(dir, "trust.json");
  writeFileSync(path, content);
  return path;
}

describe("podid trust lint", () => {
  it("exits 0 on a clean policy and says so", () => {
    const scoped = policy(
      podsStatement({ Condition: { StringEquals: { "aws:SourceAccount": "111122223333" } } }),
    );
    const run = podid(["trust", "lint", file(scoped)]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/clean/);
  });

  it("exits 0 on the launch post's unconditioned policy, with a POD_TRUST_UNSCOPED warning", () => {
    const run = podid(["trust", "lint", file(SEED_POD_IDENTITY), "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).findings.map((f: { code: string }) => f.code)).toEqual([
      "POD_TRUST_UNSCOPED",
    ]);
  });

  it("exits 0 with warnings only", () => {
    const run = podid(
      ["trust", "lint", "-", "--json"],
      policy(podsStatement(), irsaStatement(undefined, { aud: false })),
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).findings.map((f: { code: string }) => f.code)).toEqual([
      "POD_TRUST_UNSCOPED",
      "IRSA_MISSING_AUD",
    ]);
  });

  it("exits 1 on errors and prints the JSON contract", () => {
    const run = podid([
      "trust",
      "lint",
      file(encodeURIComponent(SEED_RESTRICTED)),
      "--account",
      ACCOUNT,
      "--json",
    ]);
    const out = JSON.parse(run.stdout) as { findings: Record<string, unknown>[] };
    expect(run.code).toBe(1);
    expect(out.findings.map((f) => f.code).sort()).toEqual(["SOURCE_ACCOUNT_MISMATCH", "SOURCE_ARN_INVALID"]);
    for (const f of out.findings)
      expect(Object.keys(f).sort()).toEqual(["code", "fix", "message", "severity", "statement"]);
  });

  it("groups readable output by severity with the fix of each finding", () => {
    const text = policy(podsStatement({ Action: "sts:AssumeRole" }), {
      Effect: "Allow",
      Principal: "*",
      Action: "sts:AssumeRole",
    });
    const run = podid(["trust", "lint", "-"], text);
    expect(run.code).toBe(1);
    expect(run.stdout.indexOf("CRITICAL")).toBeLessThan(run.stdout.indexOf("ERROR"));
    expect(run.stdout).toMatch(/WILDCARD_PRINCIPAL \[statement 1\]/);
    expect(run.stdout).toMatch(/fix: /);
  });

  it("reports a malformed policy as a finding, not a crash", () => {
    const run = podid(["trust", "lint", "-", "--json"], "this is not a policy");
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).findings[0].code).toBe("POLICY_MALFORMED");
  });

  it.each([
    [["trust", "lint", "/no/such/file"]],
    [["trust", "lint", "-", "--account", "12345"]],
    [["trust", "lint", "-", "--cluster-arn", "arn:aws:eks:us-east-1:111122223333:nodegroup/x"]],
    [["trust", "lint", "-", "--size-limit", "zero"]],
    [["trust", "lint"]],
  ])("exits 2 on unusable arguments: %j", (args) => {
    expect(podid(args, "{}").code).toBe(2);
  });

  it("honours --size-limit and repeated --cluster-arn", () => {
    const restricted = policy(
      podsStatement({
        Condition: { ArnEquals: { "aws:SourceArn": `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/a` } },
      }),
    );
    const run = podid(
      [
        "trust",
        "lint",
        "-",
        "--json",
        "--size-limit",
        "100",
        "--cluster-arn",
        `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/a`,
        "--cluster-arn",
        `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/b`,
      ],
      restricted,
    );
    const found = JSON.parse(run.stdout)
      .findings.map((f: { code: string }) => f.code)
      .sort();
    expect(found).toEqual(["SOURCE_ARN_EXCLUDES_CLUSTER", "TRUST_POLICY_SIZE"]);
  });
});
