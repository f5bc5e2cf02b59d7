import { CreatePolicyCommand, CreateRoleCommand } from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { readAssociations } from "../../../functions/aws/inventory.js";
import { type AdmissionPolicy, DEFAULT_ADMISSION } from "../../../functions/core/admission.js";
import { podIdentityTrust } from "../../../local/sample-fleet.js";
import { createCluster, createRole } from "../../support/fixtures.js";
import { useLocalAccount } from "../../support/local-account.js";
import { type LocalRun, localReconciler } from "../../support/local-reconcile.js";

/** Issue 13's escalation paths on the local account: what a tagger can no longer make the automation do. */
const ctx = useLocalAccount();

function setup() {
  const reconciler = localReconciler(ctx.account.endpoint);
  const clients = reconciler.clients;
  const run = (admission: AdmissionPolicy = DEFAULT_ADMISSION, request: LocalRun = {}) =>
    reconciler.run({ admission, ...request });
  const slots = async (cluster: string) =>
    (await readAssociations(clients.eks, cluster))
      .map((a) => `${a.namespace}/${a.serviceAccount}=${a.roleArn.split(":role")[1]}`)
      .sort();
  return { clients, run, slots };
}

const bind = (value: string, clusters = "all") => ({
  "pod-identity/bind": value,
  "pod-identity/clusters": clusters,
});

describe("template admission on the local account", () => {
  it("gives a tagged role outside the template path a finding and never an association", async () => {
    // Prepare: someone with only iam:TagRole tags an admin role that trusts pods
    const { clients, run, slots } = setup();
    await createCluster(clients, "prod");
    await createRole(clients.iam, "ops-admin", { tags: bind("attacker/sa"), path: "/" });
    await createRole(clients.iam, "api", { tags: bind("orders/api") });

    // Act
    const summary = await run();

    // Assess
    expect(await slots("prod")).toEqual(["orders/api=/pod-identity-templates/api"]);
    expect(summary.findings).toContainEqual(
      expect.objectContaining({ code: "TEMPLATE_NOT_ADMITTED", roleName: "ops-admin" }),
    );
  });

  it("admits a role by its permissions boundary when the stack configures one (read from IAM)", async () => {
    // Prepare
    const { clients, run, slots } = setup();
    await createCluster(clients, "prod");
    const policy = await clients.iam.send(
      new CreatePolicyCommand({
        PolicyName: "pod-identity-template-boundary",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
        }),
      }),
    );
    const boundary = policy.Policy?.Arn ?? "";
    await clients.iam.send(
      new CreateRoleCommand({
        RoleName: "bounded",
        AssumeRolePolicyDocument: podIdentityTrust(),
        PermissionsBoundary: boundary,
        Tags: Object.entries(bind("orders/bounded")).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    await createRole(clients.iam, "unbounded", { tags: bind("orders/unbounded"), path: "/" });

    // Act
    const summary = await run({
      ...DEFAULT_ADMISSION,
      templatePath: undefined,
      templateBoundaryArn: boundary,
    });

    // Assess
    expect(await slots("prod")).toEqual(["orders/bounded=/bounded"]);
    expect(summary.findings).toContainEqual(
      expect.objectContaining({ code: "TEMPLATE_NOT_ADMITTED", roleName: "unbounded" }),
    );
  });
});

describe("cluster admission on the local account", () => {
  it("matches tag: terms only on cluster tag keys under the protected prefix", async () => {
    // Prepare: a cluster admin tags their cluster with the tag another team's template selects
    const { clients, run, slots } = setup();
    await createCluster(clients, "attacker", { tags: { team: "payments" } });
    await createCluster(clients, "payments", { tags: { "pod-identity-scope/team": "payments" } });
    await createRole(clients.iam, "old-style", { tags: bind("orders/api", "tag:team=payments") });
    await createRole(clients.iam, "scoped", {
      tags: bind("orders/worker", "tag:pod-identity-scope/team=payments"),
    });

    // Act
    const summary = await run();

    // Assess
    expect(await slots("attacker")).toEqual([]);
    expect(await slots("payments")).toEqual(["orders/worker=/pod-identity-templates/scoped"]);
    expect(summary.findings).toContainEqual(
      expect.objectContaining({ code: "SELECTOR_NOT_ADMITTED", roleName: "old-style" }),
    );
  });

  it("refuses a catalog request for a namespace the stack does not allow, and honours an allowed one", async () => {
    // Prepare: a cluster tagger asks for the Route 53 role in a namespace of their choice
    const { clients, run, slots } = setup();
    await createCluster(clients, "prod", {
      tags: {
        "pod-identity/templates": "external-dns@attacker/sa cert-manager@certs/acme",
        "pod-identity/install-agent": "false",
      },
    });

    // Act
    const refused = await run();
    const before = await slots("prod");
    const allowed = await run({ ...DEFAULT_ADMISSION, catalogOverrides: { "cert-manager": ["certs/acme"] } });

    // Assess
    expect(before).toEqual([]);
    expect(refused.findings.filter((f) => f.code === "CATALOG_NOT_ALLOWED")).toHaveLength(2);
    expect(allowed.created).toBe(1);
    expect(await slots("prod")).toEqual(["certs/acme=/pod-identity/pod-identity-cert-manager"]);
  });
});
