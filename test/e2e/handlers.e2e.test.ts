import { DeleteClusterCommand, TagResourceCommand } from "@aws-sdk/client-eks";
import { DeleteRoleCommand, TagRoleCommand, UntagRoleCommand } from "@aws-sdk/client-iam";
import { afterEach, describe, expect, it, vi } from "vitest";
import { readAssociations } from "../../functions/aws/inventory.js";
import { seedSampleFleet } from "../../local/sample-fleet.js";
import { sampleEvent, useBuiltHandlers } from "../support/bundles.js";
import { ACCOUNT_ID, awsClientsFor, useLocalAccount, writeCalls } from "../support/local-account.js";
import { drainWorkQueue } from "../support/work-queue.js";

const ctx = useLocalAccount();
const handlers = useBuiltHandlers(ctx, ["cluster-event", "iam-event", "sweeper"], {
  POWERTOOLS_LOG_LEVEL: "WARN",
  POWERTOOLS_METRICS_DISABLED: "true",
});
const sample = sampleEvent;

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

describe("the built bundles with the events/ samples (triggers enqueue, the worker reconciles)", () => {
  const drain = () => drainWorkQueue(ctx.account);
  const slots = async (clients: Awaited<ReturnType<typeof seeded>>, cluster: string) =>
    (await readAssociations(clients.eks, cluster)).map((a) => `${a.namespace}/${a.serviceAccount}`).sort();

  it("sweeper: the scheduled event enqueues every cluster; the worker reconciles the sample fleet", async () => {
    const clients = await seeded();
    const out = await handlers.sweeper!(sample("scheduled-sweep.json"));
    const drained = await drain();
    expect(out).toMatchObject({ status: "enqueued", templates: 2 });
    expect(out.clusters).toEqual(["legacy-batch", "payments-prod", "payments-staging"]);
    expect(drained).toMatchObject({ failedItems: 0, deadLettered: 0 });
    expect(await slots(clients, "payments-prod")).toHaveLength(5);
    expect(await slots(clients, "payments-staging")).toHaveLength(3);
    expect(await slots(clients, "legacy-batch")).toEqual([]);
  });

  it("sweeper: a payload with roles, a breaker floor or clusters is rejected, and nothing is written", async () => {
    await seeded();
    await ctx.account.resetCalls();
    const forged = {
      clusters: ["payments-prod"],
      roles: [
        {
          name: "AdminRole",
          arn: "arn:aws:iam::123456789012:role/AdminRole",
          path: "/",
          tags: {},
          trustPolicy: "{}",
        },
      ],
      breakerFloor: 100000,
    };
    const out = await handlers.sweeper!(forged);
    expect(out.status).toBe("rejected");
    expect((await ctx.account.calls()).calls).toEqual({});
  });

  it("cluster-event: CreateCluster of an ACTIVE cluster enqueues it; the worker onboards it", async () => {
    const clients = await seeded();
    const out = await handlers["cluster-event"]!(sample("eks-create-cluster.json"));
    const drained = await drain();
    expect(out).toEqual({ status: "enqueued", clusterName: "payments-prod" });
    expect(drained.clusters).toEqual(["payments-prod"]);
    expect(await slots(clients, "payments-prod")).toHaveLength(5);
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
    expect(onboard).toEqual({ status: "enqueued", clusterName: "payments-prod" });
  });

  it("cluster-event: TagResource and UntagResource in real CloudTrail form (URL-encoded resourceArn) enqueue the cluster; the worker re-plans it", async () => {
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
    await drain();
    expect(tagged.status).toBe("enqueued");
    expect(untagged.status).toBe("enqueued");
    expect(await slots(clients, "payments-prod")).toContain("cert-manager/cert-manager");
  });

  it("cluster-event: DeleteCluster writes nothing to EKS (EKS removes the associations)", async () => {
    const clients = await seeded();
    await clients.eks.send(new DeleteClusterCommand({ name: "payments-staging" }));
    await ctx.account.resetCalls();
    const out = await handlers["cluster-event"]!(sample("eks-delete-cluster.json"));
    await drain();
    expect(out.status).toBe("enqueued");
    expect(
      Object.keys(writeCalls((await ctx.account.calls()).calls)).filter(
        (op) => !/Message|Item|Queue|Query/.test(op),
      ),
    ).toEqual([]);
  });

  it.each(["iam-create-role.json", "iam-tag-role.json", "iam-update-assume-role-policy.json"])(
    "iam-event: %s refreshes orders-api, lints its trust, and enqueues the clusters it selects",
    async (file) => {
      const clients = await seeded();
      await handlers.sweeper!(sample("scheduled-sweep.json"));
      await drain();
      await clients.iam.send(
        new TagRoleCommand({
          RoleName: "orders-api",
          Tags: [{ Key: "pod-identity/bind-2", Value: "orders/extra" }],
        }),
      );
      const out = await handlers["iam-event"]!(sample(file));
      await drain();
      expect(out).toMatchObject({
        status: "enqueued",
        roleName: "orders-api",
        now: "indexed",
        trustFindings: [],
      });
      expect(out.clusters).toEqual(["payments-prod", "payments-staging"]);
      expect(await slots(clients, "payments-prod")).toContain("orders/extra");
    },
  );

  it("iam-event: UntagRole and DeleteRole remove that role's associations", async () => {
    const clients = await seeded();
    await handlers.sweeper!(sample("scheduled-sweep.json"));
    await drain();
    await clients.iam.send(
      new UntagRoleCommand({ RoleName: "metrics-reader", TagKeys: ["pod-identity/bind"] }),
    );
    await handlers["iam-event"]!(sample("iam-untag-role.json"));
    await drain();
    const afterUntag = await slots(clients, "payments-prod");
    await clients.iam.send(
      new TagRoleCommand({
        RoleName: "metrics-reader",
        Tags: [{ Key: "pod-identity/bind", Value: "monitoring/prometheus" }],
      }),
    );
    await handlers.sweeper!(sample("scheduled-sweep.json"));
    await drain();
    const afterTag = await slots(clients, "payments-prod");
    await clients.iam.send(new DeleteRoleCommand({ RoleName: "metrics-reader" }));
    const deleted = await handlers["iam-event"]!(sample("iam-delete-role.json"));
    await drain();
    expect(afterUntag).not.toContain("monitoring/prometheus");
    expect(afterTag).toContain("monitoring/prometheus");
    expect(deleted).toMatchObject({ now: "gone", clusters: ["payments-prod", "payments-staging"] });
    expect(await slots(clients, "payments-prod")).not.toContain("monitoring/prometheus");
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
