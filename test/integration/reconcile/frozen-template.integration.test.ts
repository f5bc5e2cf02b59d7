import { UpdatePodIdentityAssociationCommand } from "@aws-sdk/client-eks";
import { describe, expect, it } from "vitest";
import { readAssociations } from "../../../functions/aws/inventory.js";
import { createCluster, createRole } from "../../support/fixtures.js";
import { useLocalAccount } from "../../support/local-account.js";
import { localReconciler } from "../../support/local-reconcile.js";

/**
 * Fail safe, not fail empty (issues 10 and 13): a template whose tags cannot be read keeps the
 * associations it sources exactly as they are (no delete, no update) and says so in a finding.
 * Asserted on behaviour (associations, findings), not on which IAM call reads the tags: here the
 * worker's confirming GetRole, right before it would repair the drift, gets IAM's 5xx.
 */
const ctx = useLocalAccount();

function setup() {
  // one attempt per call: the injected faults reach the reconciler instead of being retried away
  const { clients, run } = localReconciler(ctx.account.endpoint, { maxAttempts: 1 });
  const slots = async (cluster: string) =>
    (await readAssociations(clients.eks, cluster))
      .map((a) => `${a.namespace}/${a.serviceAccount}=${a.roleArn.split(":role")[1]}`)
      .sort();
  return { clients, run, slots };
}

describe("a template whose tags cannot be read", () => {
  it("freezes its associations (no delete, no update) with a finding, and is applied again once readable", async () => {
    // Prepare: the template's association exists, then drifts to another role (a run would repair it)
    const { clients, run, slots } = setup();
    await createCluster(clients, "prod");
    await createRole(clients.iam, "api", {
      tags: { "pod-identity/bind": "orders/api", "pod-identity/clusters": "all" },
    });
    const other = await createRole(clients.iam, "other", { path: "/pod-identity-templates/" });
    await run();
    const [association] = await readAssociations(clients.eks, "prod");
    await clients.eks.send(
      new UpdatePodIdentityAssociationCommand({
        clusterName: "prod",
        associationId: association?.associationId,
        roleArn: other,
      }),
    );
    // every read of one role fails (IAM's 5xx); the worker confirms a role with GetRole before a write
    await ctx.account.setFaults({ failNext: { GetRole: 1000 } });

    // Act
    const frozen = await run();
    const whileUnreadable = await slots("prod");
    await ctx.account.setFaults({});
    const readable = await run();

    // Assess
    expect(whileUnreadable).toEqual(["orders/api=/pod-identity-templates/other"]);
    expect(frozen).toMatchObject({ created: 0, updated: 0, deleted: 0 });
    expect(frozen.findings).toContainEqual(
      expect.objectContaining({ code: "TEMPLATE_UNREADABLE", severity: "error", roleName: "api" }),
    );
    expect(readable.updated).toBe(1);
    expect(readable.findings.filter((f) => f.code === "TEMPLATE_UNREADABLE")).toEqual([]);
    expect(await slots("prod")).toEqual(["orders/api=/pod-identity-templates/api"]);
  });
});
