import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { TagResourceCommand } from "@aws-sdk/client-eks";
import { DeleteRoleCommand, TagRoleCommand, UntagRoleCommand } from "@aws-sdk/client-iam";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { seedSampleFleet } from "../../local/sample-fleet.js";
import { ACCOUNT_ID, awsClientsFor, useLocalAccount, writeCalls } from "../support/local-account.js";

type Handler = (event: unknown) => Promise<Record<string, any>>;

const ctx = useLocalAccount();
const handlers: Record<string, Handler> = {};
const sample = (name: string): unknown => JSON.parse(readFileSync(`events/${name}`, "utf8"));

beforeAll(async () => {
  Object.assign(process.env, ctx.account.env(), {
    ACCOUNT_ID,
    POWERTOOLS_LOG_LEVEL: "WARN",
    POWERTOOLS_METRICS_DISABLED: "true",
  });
  for (const name of ["cluster-event", "iam-event", "sweeper"]) {
    const mod = (await import(pathToFileURL(`dist/functions/${name}/index.mjs`).href)) as {
      handler: Handler;
    };
    handlers[name] = mod.handler;
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function seeded() {
  const clients = awsClientsFor(ctx.account.endpoint);
  await seedSampleFleet(clients, ACCOUNT_ID);
  return clients;
}

/** Captures what the handler logs (Powertools writes JSON lines to stdout/stderr). */
function captureLogs(): () => string {
  const lines: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
  }
  return () => lines.join("\n");
}

describe("the built bundles with the events/ samples", () => {
  it("sweeper: the scheduled event reconciles the whole sample fleet", async () => {
    await seeded();
    const out = await handlers.sweeper!(sample("scheduled-sweep.json"));
    expect(out.summary).toMatchObject({ created: 8, failed: 0, dryRun: false });
  });

  it("sweeper: lists clusters for a fan-out, and sweeps one unit of work", async () => {
    await seeded();
    const listed = await handlers.sweeper!({ action: "list-clusters" });
    const unit = await handlers.sweeper!({ clusters: ["payments-staging"] });
    expect(listed.clusters.sort()).toEqual(["legacy-batch", "payments-prod", "payments-staging"]);
    expect(unit.summary).toMatchObject({ clusters: 1, created: 3 });
  });

  it("cluster-event: CreateCluster of an ACTIVE cluster onboards it", async () => {
    await seeded();
    const out = await handlers["cluster-event"]!(sample("eks-create-cluster.json"));
    expect(out.status).toBe("reconciled");
    expect(out.summary.created).toBe(5);
  });

  it("cluster-event: CreateCluster of a CREATING cluster waits (the sweep catches it without a wait loop)", async () => {
    await seeded();
    await ctx.account.setClusterState("payments-prod", { status: "CREATING" });
    await ctx.account.resetCalls();
    const out = await handlers["cluster-event"]!(sample("eks-create-cluster.json"));
    expect(out).toMatchObject({ status: "deferred", clusterName: "payments-prod" });
    expect(writeCalls((await ctx.account.calls()).calls)).toEqual({});
  });

  it("cluster-event: the wait loop's check and onboard tasks", async () => {
    await seeded();
    const check = await handlers["cluster-event"]!({ action: "check", clusterName: "payments-prod" });
    const gone = await handlers["cluster-event"]!({ action: "check", clusterName: "nope" });
    const onboard = await handlers["cluster-event"]!({ action: "onboard", clusterName: "payments-prod" });
    expect(check).toEqual({ clusterName: "payments-prod", status: "ACTIVE" });
    expect(gone).toEqual({ clusterName: "nope", status: "GONE" });
    expect(onboard.summary.created).toBe(5);
  });

  it("cluster-event: TagResource and UntagResource in real CloudTrail form (URL-encoded resourceArn) re-plan the cluster", async () => {
    const clients = await seeded();
    const tagEvent = sample("eks-tag-resource.json") as {
      detail: { requestParameters: { resourceArn: string } };
    };
    expect(tagEvent.detail.requestParameters.resourceArn).toMatch(
      /^arn%3Aaws%3Aeks%3A.*%3Acluster%2Fpayments-prod$/,
    );
    await clients.eks.send(
      new TagResourceCommand({
        resourceArn: `arn:aws:eks:us-east-1:${ACCOUNT_ID}:cluster/payments-prod`,
        tags: { "pod-identity/templates": "external-dns aws-load-balancer-controller cert-manager" },
      }),
    );
    const tagged = await handlers["cluster-event"]!(sample("eks-tag-resource.json"));
    const untagged = await handlers["cluster-event"]!(sample("eks-untag-resource.json"));
    expect(tagged.summary.changes.map((c: { namespace: string }) => c.namespace)).toContain("cert-manager");
    expect(untagged).toMatchObject({ status: "reconciled", summary: { created: 0, deleted: 0 } });
  });

  it("cluster-event: DeleteCluster changes nothing (EKS removes the associations)", async () => {
    await seeded();
    await ctx.account.resetCalls();
    const out = await handlers["cluster-event"]!(sample("eks-delete-cluster.json"));
    expect(out.status).toBe("ignored");
    expect(writeCalls((await ctx.account.calls()).calls)).toEqual({});
  });

  it.each(["iam-create-role.json", "iam-tag-role.json", "iam-update-assume-role-policy.json"])(
    "iam-event: %s re-plans orders-api across clusters and lints its trust",
    async (file) => {
      await seeded();
      const out = await handlers["iam-event"]!(sample(file));
      expect(out).toMatchObject({ status: "reconciled", roleName: "orders-api", trustFindings: [] });
      expect(out.summary.created).toBe(4);
      expect(out.summary.changes.every((c: { source: string }) => c.source === "orders-api")).toBe(true);
    },
  );

  it("iam-event: UntagRole and DeleteRole remove that role's associations", async () => {
    const clients = await seeded();
    await handlers.sweeper!(sample("scheduled-sweep.json"));
    await clients.iam.send(
      new UntagRoleCommand({ RoleName: "metrics-reader", TagKeys: ["pod-identity/bind"] }),
    );
    const untagged = await handlers["iam-event"]!(sample("iam-untag-role.json"));
    await clients.iam.send(
      new TagRoleCommand({
        RoleName: "metrics-reader",
        Tags: [{ Key: "pod-identity/bind", Value: "monitoring/prometheus" }],
      }),
    );
    await handlers["iam-event"]!(sample("iam-tag-role.json"));
    await handlers.sweeper!(sample("scheduled-sweep.json"));
    await clients.iam.send(new DeleteRoleCommand({ RoleName: "metrics-reader" }));
    const deleted = await handlers["iam-event"]!(sample("iam-delete-role.json"));
    expect(untagged.summary.deleted).toBe(2);
    expect(deleted.summary.deleted).toBe(2);
  });

  it.each([
    ["cluster-event", "eks-create-cluster-failed.json", /failed \(InvalidParameterException\)/],
    ["iam-event", "iam-tag-role-failed.json", /failed \(AccessDenied\)/],
    ["cluster-event", "iam-tag-role.json", /expected aws.eks/],
    ["iam-event", "eks-tag-resource.json", /expected aws.iam/],
    ["sweeper", "eks-tag-resource.json", /unrecognised sweeper input/],
  ])("%s rejects %s with a logged reason and no AWS write", async (name, file, reason) => {
    await seeded();
    await ctx.account.resetCalls();
    const logs = captureLogs();
    const out = await handlers[name]!(sample(file));
    expect(out).toMatchObject({ status: "rejected", reason: expect.stringMatching(reason) });
    expect(logs()).toMatch(/event rejected/);
    expect((await ctx.account.calls()).calls).toEqual({});
  });

  it.each([
    null,
    undefined,
    "text",
    42,
    [],
    { detail: "x" },
    { source: "aws.eks", "detail-type": "AWS API Call via CloudTrail", detail: {} },
  ])("every handler rejects %j without throwing", async (event) => {
    await ctx.account.resetCalls();
    for (const name of ["cluster-event", "iam-event", "sweeper"]) {
      await expect(handlers[name]!(event)).resolves.toMatchObject({ status: "rejected" });
    }
    expect((await ctx.account.calls()).calls).toEqual({});
  });
});
