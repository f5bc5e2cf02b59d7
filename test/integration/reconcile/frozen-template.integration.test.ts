import { UpdatePodIdentityAssociationCommand } from "@aws-sdk/client-eks";
import { describe, expect, it } from "vitest";
import { memoryPublisher } from "../../../functions/aws/events.js";
import { readAssociations } from "../../../functions/aws/inventory.js";
import { reconcile, silentLogger } from "../../../functions/aws/reconcile.js";
import { DEFAULT_ADMISSION } from "../../../functions/core/admission.js";
import { createCluster, createRole } from "../../support/fixtures.js";
import { ACCOUNT_ID, awsClientsFor, useLocalAccount } from "../../support/local-account.js";

/**
 * Fail safe, not fail empty (issues 10 and 13): a template whose tags cannot be read keeps the
 * associations it sources exactly as they are (no delete, no update) and says so in a finding.
 * Asserted on behaviour (associations, findings), not on which IAM call reads the tags.
 */
const ctx = useLocalAccount();

function setup() {
  // one attempt per call: the injected faults reach the reconciler instead of being retried away
  const clients = awsClientsFor(ctx.account.endpoint, 1);
  const run = () =>
    reconcile(
      { clients, publisher: memoryPublisher(), logger: silentLogger, accountId: ACCOUNT_ID },
      { scope: { kind: "all" }, dryRun: false, admission: DEFAULT_ADMISSION },
    );
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
    // every read of a role's tags fails (IAM's 5xx); the reconciler's tag reads go through ListRoleTags
    await ctx.account.setFaults({ failNext: { ListRoleTags: 1000 } });

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
