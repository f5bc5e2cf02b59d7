import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { CATALOG } from "../../functions/core/catalog.js";
import { createCluster } from "../support/fixtures.js";
import { ACCOUNT_ID, awsClientsFor, useLocalAccount, writeCalls } from "../support/local-account.js";

const ctx = useLocalAccount();

/** Runs the built CLI, against the local account or with no account configured at all. */
function podid(
  args: string[],
  online: boolean,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env, ...(online ? ctx.account.env() : {}) };
  if (!online)
    for (const k of ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"])
      delete env[k];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/podid.mjs", ...args], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("podid catalog", () => {
  it("lists at least 14 entries with versions, upstream versions and service accounts, offline", async () => {
    // Act
    const out = await podid(["catalog", "list", "--json"], false);
    // Assess
    expect(out.code).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(json.source).toMatch(/^offline/);
    expect(json.entries.length).toBeGreaterThanOrEqual(14);
    expect(
      json.entries.find((e: { name: string }) => e.name === "aws-efs-csi-driver").serviceAccounts,
    ).toEqual([
      { namespace: "kube-system", serviceAccount: "efs-csi-controller-sa" },
      { namespace: "kube-system", serviceAccount: "efs-csi-node-sa" },
    ]);
    for (const e of json.entries) expect(e.upstream.version, e.name).toBeTruthy();
  });

  it("shows the documents exactly as the reconciler writes them for the account's clusters, and who uses each entry", async () => {
    // Prepare
    const clients = awsClientsFor(ctx.account.endpoint);
    const arn = await createCluster(clients, "prod", {
      tags: { "pod-identity/templates": "external-dns", "pod-identity/route53-zones": "Z0PROD1" },
    });
    await ctx.account.resetCalls();
    // Act
    const list = JSON.parse((await podid(["catalog", "list", "--json"], true)).stdout);
    const show = await podid(["catalog", "show", "external-dns", "--json"], true);
    // Assess
    expect(list.source).toBe(`account ${ACCOUNT_ID}, region us-east-1`);
    expect(list.entries.find((e: { name: string }) => e.name === "external-dns").clusters).toEqual([arn]);
    const view = JSON.parse(show.stdout);
    expect(view.documents.inlinePolicy.Statement).toContainEqual(
      expect.objectContaining({
        Resource: ["arn:aws:route53:::hostedzone/Z0PROD1"],
        Condition: { StringEquals: { "aws:PrincipalTag/eks-cluster-arn": [arn] } },
      }),
    );
    expect(
      view.documents.trustPolicy.Statement[0].Condition.StringEquals["aws:RequestTag/eks-cluster-arn"],
    ).toEqual([arn]);
    expect(writeCalls((await ctx.account.calls()).calls)).toEqual({});
  });

  it("diffs the previous version against the current one, and refuses an unknown entry with exit 2", async () => {
    // Act
    const diff = JSON.parse((await podid(["catalog", "diff", "external-secrets", "--json"], false)).stdout);
    const unknown = await podid(["catalog", "show", "nope"], false);
    // Assess
    expect(diff.diff).toMatchObject({
      from: "2024.1",
      to: CATALOG.find((e) => e.name === "external-secrets")?.version,
    });
    expect(diff.diff.addedActions).toContain("secretsmanager:BatchGetSecretValue");
    expect(unknown.code).toBe(2);
  });
});
