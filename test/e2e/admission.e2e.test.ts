import { TagResourceCommand } from "@aws-sdk/client-eks";
import { CreateRoleCommand } from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { readAssociations } from "../../functions/aws/inventory.js";
import { podIdentityTrust, seedSampleFleet } from "../../local/sample-fleet.js";
import { sampleEvent, useBuiltHandlers } from "../support/bundles.js";
import { ACCOUNT_ID, awsClientsFor, useLocalAccount } from "../support/local-account.js";
import { drainWorkQueue } from "../support/work-queue.js";

/**
 * Issue 13 through the built bundles: taggers cannot steer the automation outside the stack's
 * authority. The handlers enqueue, the worker bundle drains the queue as the event source mapping
 * would; the findings themselves are asserted by admission.integration.test.ts.
 */

const ctx = useLocalAccount();
const handlers = useBuiltHandlers(ctx, ["cluster-event", "iam-event"], {
  POWERTOOLS_LOG_LEVEL: "WARN",
  POWERTOOLS_METRICS_DISABLED: "true",
});
const sample = sampleEvent;

async function slots(clients: ReturnType<typeof awsClientsFor>): Promise<string[]> {
  const all: string[] = [];
  for (const cluster of ["payments-prod", "payments-staging"]) {
    for (const a of await readAssociations(clients.eks, cluster))
      all.push(`${cluster} ${a.namespace}/${a.serviceAccount} ${a.roleArn.split(":role")[1]}`);
  }
  return all.sort();
}

describe("admission through the built bundles", () => {
  it("iam-event: a role tagged outside the template path gets no association", async () => {
    // Prepare
    const clients = awsClientsFor(ctx.account.endpoint);
    await seedSampleFleet(clients, ACCOUNT_ID);
    await clients.iam.send(
      new CreateRoleCommand({
        RoleName: "ops-admin",
        AssumeRolePolicyDocument: podIdentityTrust(ACCOUNT_ID),
        Tags: [
          { Key: "pod-identity/bind", Value: "attacker/sa" },
          { Key: "pod-identity/clusters", Value: "all" },
        ],
      }),
    );
    const event = sample("iam-tag-role.json");
    event.detail.requestParameters.roleName = "ops-admin";

    // Act
    const out = await handlers["iam-event"]!(event);
    const drained = await drainWorkQueue(ctx.account);

    // Assess
    // before any sweep the index knows no cluster: every one is enqueued and the worker decides
    expect(out).toMatchObject({ status: "enqueued", roleName: "ops-admin" });
    expect(out.clusters).toContain("payments-prod");
    expect(drained).toMatchObject({ failedItems: 0, failedInvocations: 0, deadLettered: 0 });
    expect(drained.clusters).toContain("payments-prod");
    expect((await slots(clients)).filter((s) => s.includes("attacker"))).toEqual([]);
  });

  it("cluster-event: a catalog request for a namespace the stack does not allow is refused", async () => {
    // Prepare
    const clients = awsClientsFor(ctx.account.endpoint);
    await seedSampleFleet(clients, ACCOUNT_ID);
    await clients.eks.send(
      new TagResourceCommand({
        resourceArn: `arn:aws:eks:us-east-1:${ACCOUNT_ID}:cluster/payments-prod`,
        tags: { "pod-identity/templates": "external-dns@attacker/sa" },
      }),
    );

    // Act
    const out = await handlers["cluster-event"]!(sample("eks-tag-resource.json"));
    const drained = await drainWorkQueue(ctx.account);

    // Assess
    expect(out).toMatchObject({ status: "enqueued", clusterName: "payments-prod" });
    expect(drained).toMatchObject({ clusters: ["payments-prod"], failedItems: 0, deadLettered: 0 });
    expect((await slots(clients)).filter((s) => s.includes("attacker"))).toEqual([]);
  });

  it("cluster-event: a cluster tag another team's tag: term names is ignored outside the protected prefix", async () => {
    // Prepare: orders-api selects tag:pod-identity-scope/team=payments; the attacker sets plain team=payments
    const clients = awsClientsFor(ctx.account.endpoint);
    await seedSampleFleet(clients, ACCOUNT_ID);
    await clients.eks.send(
      new TagResourceCommand({
        resourceArn: `arn:aws:eks:us-east-1:${ACCOUNT_ID}:cluster/payments-prod`,
        tags: { "pod-identity-scope/team": "other", team: "payments" },
      }),
    );

    // Act
    const out = await handlers["cluster-event"]!(sample("eks-tag-resource.json"));
    const drained = await drainWorkQueue(ctx.account);

    // Assess: the scoped tag says another team, so orders-api is not in payments-prod; the plain tag selects nothing
    expect(out).toMatchObject({ status: "enqueued", clusterName: "payments-prod" });
    expect(drained).toMatchObject({ clusters: ["payments-prod"], failedItems: 0, deadLettered: 0 });
    expect(
      (await slots(clients)).filter((s) => s.startsWith("payments-prod") && s.includes("orders-api")),
    ).toEqual([]);
  });
});
