import { describe, expect, it } from "vitest";
import { type AdmissionPolicy, DEFAULT_ADMISSION } from "../../../functions/core/admission.js";
import { catalogRoleArn } from "../../../functions/core/catalog.js";
import { computeDesired } from "../../../functions/core/desired.js";
import type { AssociationInfo, ClusterInfo, RoleInfo } from "../../../functions/core/model.js";
import { type PlanOptions, planChanges } from "../../../functions/core/plan.js";
import { ACCOUNT, association, cluster, role, roleArnOf, template } from "../../support/fleet.js";

function plan(
  clusters: ClusterInfo[],
  roles: RoleInfo[],
  actual: AssociationInfo[] = [],
  options: PlanOptions = {},
  admission: AdmissionPolicy = DEFAULT_ADMISSION,
) {
  const state = computeDesired({ clusters, roles, accountId: ACCOUNT, admission });
  const planned = planChanges(state, actual, options);
  const result = { ...planned, changes: [...planned.changes, ...planned.deletions] };
  const summary = result.changes.map((c) =>
    c.kind === "delete"
      ? `delete ${c.actual.clusterName}/${c.actual.namespace}/${c.actual.serviceAccount}`
      : `${c.kind} ${c.desired.clusterName}/${c.desired.namespace}/${c.desired.serviceAccount} ${c.desired.source}`,
  );
  return { state, result, summary, codes: [...state.findings, ...result.findings].map((f) => f.code) };
}

describe("desired state and plan", () => {
  it("creates what templates select and leaves other clusters alone", () => {
    const { summary } = plan(
      [
        cluster("prod", { "pod-identity-scope/env": "prod" }),
        cluster("dev", { "pod-identity-scope/env": "dev" }),
      ],
      [template("api", "orders/api", "tag:pod-identity-scope/env=prod")],
    );
    expect(summary).toEqual(["create prod/orders/api api"]);
  });

  it("plans nothing when actual matches desired", () => {
    const { result } = plan(
      [cluster("prod")],
      [template("api", "orders/api")],
      [association("prod", "orders", "api", "api")],
    );
    expect(result.changes).toEqual([]);
    expect(result.unchanged).toBe(1);
  });

  it("updates role, session tags and target role changes", () => {
    const { result } = plan(
      [cluster("prod")],
      [
        template("api", "orders/api"),
        template("worker", "orders/worker", "all", { "pod-identity/session-tags": "disabled" }),
        template("etl", "data/etl", "all", {
          "pod-identity/target-role": "arn:aws:iam::210987654321:role/lake",
        }),
      ],
      [
        association("prod", "orders", "api", "old-api", { source: "api" }),
        association("prod", "orders", "worker", "worker"),
        association("prod", "data", "etl", "etl"),
      ],
    );
    expect(result.changes.map((c) => (c.kind === "update" ? c.changes : c.kind))).toEqual([
      ["roleArn"],
      ["disableSessionTags"],
      ["targetRoleArn"],
    ]);
  });

  it("deletes managed associations no template claims", () => {
    const { summary } = plan([cluster("prod")], [], [association("prod", "orders", "api", "api")]);
    expect(summary).toEqual(["delete prod/orders/api"]);
  });

  it("never touches unmanaged or add-on-owned associations, and says so when tags claim them", () => {
    const { result, codes } = plan(
      [cluster("prod")],
      [template("api", "orders/api kube-system/ebs-csi-controller-sa")],
      [
        association("prod", "orders", "api", "hand-made", { managed: false }),
        association("prod", "kube-system", "ebs-csi-controller-sa", "ebs", {
          ownerArn: "arn:aws:eks:us-east-1:1:addon/prod/ebs/x",
        }),
        association("prod", "other", "thing", "hand-made", { managed: false }),
      ],
    );
    expect(result.changes).toEqual([]);
    expect(codes.sort()).toEqual(["ADDON_OWNED", "UNMANAGED_EXISTS"]);
  });

  it("adopts unmanaged associations only when asked", () => {
    const { result } = plan(
      [cluster("prod")],
      [template("api", "orders/api")],
      [association("prod", "orders", "api", "api", { managed: false })],
      {
        adoptUnmanaged: true,
      },
    );
    expect(result.changes).toEqual([expect.objectContaining({ kind: "update", adopt: true })]);
  });

  it("holds a slot two templates claim: neither wins, a finding names both", () => {
    const { result, state } = plan(
      [cluster("prod")],
      [template("a", "orders/api"), template("b", "orders/api")],
      [association("prod", "orders", "api", "a")],
    );
    expect(result.changes).toEqual([]);
    const conflict = state.findings.find((f) => f.code === "CONFLICT");
    expect(conflict?.message).toMatch(/a and b/);
  });

  it("changes nothing in an opted-out or not-ACTIVE cluster", () => {
    const { result } = plan(
      [cluster("frozen", { "pod-identity/opt-out": "true" }), cluster("new", {}, { status: "CREATING" })],
      [template("api", "orders/api")],
      [association("frozen", "x", "y", "gone"), association("new", "x", "y", "gone")],
    );
    expect(result.changes).toEqual([]);
  });

  it("skips clusters whose version does not support Pod Identity", () => {
    const { result, codes } = plan(
      [
        cluster("old", {}, { version: "1.23" }),
        cluster("early", {}, { version: "1.28", platformVersion: "eks.3" }),
      ],
      [template("api", "orders/api")],
    );
    expect(result.changes).toEqual([]);
    expect(codes).toEqual(["CLUSTER_UNSUPPORTED", "CLUSTER_UNSUPPORTED"]);
  });

  it("does not attempt a template whose trust STS would refuse in a cluster", () => {
    const restricted = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "pods.eks.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession"],
          Condition: { ArnEquals: { "aws:SourceArn": `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod` } },
        },
      ],
    });
    const r = role("api", { "pod-identity/bind": "orders/api", "pod-identity/clusters": "all" }, restricted);
    const { summary, state } = plan(
      [cluster("prod"), cluster("dev")],
      [r],
      [association("dev", "orders", "api", "api")],
    );
    expect(summary).toEqual(["create prod/orders/api api"]);
    expect(state.findings).toEqual([expect.objectContaining({ code: "TRUST_REFUSED", clusterName: "dev" })]);
  });

  it("associates catalog entries to the shared role, with overrides the stack allows", () => {
    const { result } = plan(
      [cluster("prod", { "pod-identity/templates": "external-dns cert-manager@certs/acme" })],
      [],
      [],
      {},
      { ...DEFAULT_ADMISSION, catalogOverrides: { "cert-manager": ["certs/acme"] } },
    );
    expect(
      result.changes.map((c) =>
        c.kind === "create" ? [c.desired.namespace, c.desired.serviceAccount, c.desired.roleArn] : [],
      ),
    ).toEqual([
      ["external-dns", "external-dns", catalogRoleArn(ACCOUNT, "external-dns")],
      ["certs", "acme", catalogRoleArn(ACCOUNT, "cert-manager")],
    ]);
  });

  it("limits a role-scoped plan to that role's associations", () => {
    const { summary } = plan(
      [cluster("prod")],
      [template("api", "orders/api"), template("web", "web/frontend")],
      [association("prod", "old", "thing", "api")],
      { roleName: "api" },
    );
    expect(summary).toEqual(["create prod/orders/api api", "delete prod/old/thing"]);
  });
});

describe("fail-safe templates (code review D4)", () => {
  const four = ["a", "b", "c", "d"].map((sa) => association("prod", "orders", sa, "orders-api"));
  const tags = { "pod-identity/bind": "orders/a orders/b orders/c orders/d", "pod-identity/clusters": "all" };

  it.each([
    ["a session-tags value in another case", { "pod-identity/session-tags": "Enabled" }],
    ["an unknown pod-identity/* key", { "pod-identity/owner": "team-orders" }],
  ])("keeps every association of a live template after %s", (_label, typo) => {
    const { result } = plan([cluster("prod")], [role("orders-api", { ...tags, ...typo })], four);

    expect(result.changes).toEqual([]);
    expect(result.unchanged).toBe(4);
  });

  it.each([
    ["an invalid value", { "pod-identity/session-tags": "off" }],
    ["an invalid binding", { "pod-identity/bind-2": "Orders/x" }],
    ["an invalid selector", { "pod-identity/clusters": "all region:eu" }],
  ])("freezes the associations of a template with %s: no create, update or delete", (_label, typo) => {
    const merged = Object.fromEntries(
      Object.entries({ ...tags, ...typo }).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    // one association points at an old role: it would be updated if the template applied
    const actual = [...four.slice(0, 3), association("prod", "orders", "d", "old", { source: "orders-api" })];

    const { result, state } = plan([cluster("prod")], [role("orders-api", merged)], actual);

    expect(result.changes).toEqual([]);
    expect(result.unchanged).toBe(4);
    expect(state.frozenSources).toEqual(new Set(["orders-api"]));
  });

  it("freezes the associations of a template whose tags cannot be read, and releases them once the role is gone", () => {
    const unreadable = { ...role("orders-api", {}), unreadable: "ThrottlingException" };

    const frozen = plan([cluster("prod")], [unreadable], four);
    const deleted = plan([cluster("prod")], [], four);

    expect(frozen.result.changes).toEqual([]);
    expect(frozen.codes).toContain("TEMPLATE_UNREADABLE");
    expect(deleted.summary).toHaveLength(4);
  });

  it("does not let another template take a frozen template's slot", () => {
    const invalid = role("orders-api", { ...tags, "pod-identity/session-tags": "off" });

    const { result } = plan([cluster("prod")], [invalid, template("thief", "orders/a")], four);

    expect(result.changes).toEqual([]);
  });
});

describe("role identity", () => {
  it("treats role names that differ only in case as one role (event for Web-App, tag naming web-app)", () => {
    const { summary } = plan(
      [cluster("prod")],
      [template("web-app", "web/frontend")],
      [association("prod", "old", "thing", "web-app", { source: "Web-App" })],
      { roleName: "Web-App" },
    );

    expect(summary).toEqual(["create prod/web/frontend web-app", "delete prod/old/thing"]);
  });

  it("compares role ARNs with their path: a same-name role at another path is another ARN", () => {
    const { result } = plan(
      [cluster("prod")],
      [template("api", "orders/api")],
      [{ ...association("prod", "orders", "api", "api"), roleArn: `arn:aws:iam::${ACCOUNT}:role/api` }],
    );

    expect(result.changes.map((c) => (c.kind === "update" ? c.changes : c.kind))).toEqual([["roleArn"]]);
  });

  it("does not update an association whose role ARN differs only in the case of the name", () => {
    const { result } = plan(
      [cluster("prod")],
      [template("api", "orders/api")],
      [{ ...association("prod", "orders", "api", "api"), roleArn: roleArnOf("API") }],
    );

    expect(result.changes).toEqual([]);
  });
});

describe("admission", () => {
  it("never associates a tagged role outside the template path; its old associations are released", () => {
    const outside = role(
      "admin",
      { "pod-identity/bind": "attacker/sa", "pod-identity/clusters": "all" },
      undefined,
      "/",
    );

    const { summary, codes } = plan(
      [cluster("prod")],
      [outside],
      [association("prod", "attacker", "old", "admin")],
    );

    expect(summary).toEqual(["delete prod/attacker/old"]);
    expect(codes).toContain("TEMPLATE_NOT_ADMITTED");
  });

  it("matches tag: terms only on keys under the protected prefix", () => {
    const { summary, codes } = plan(
      [cluster("prod", { team: "a", "pod-identity-scope/team": "a" }), cluster("dev", { team: "a" })],
      [
        template("api", "orders/api", "tag:team=a"),
        template("web", "web/ui", "tag:pod-identity-scope/team=a"),
      ],
    );

    expect(summary).toEqual(["create prod/web/ui web"]);
    expect(codes).toContain("SELECTOR_NOT_ADMITTED");
  });

  it("matches arn: terms in exactly one region", () => {
    const { summary } = plan(
      [cluster("prod"), cluster("prod-eu", {}, { arn: `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/prod-eu` })],
      [template("api", "orders/api", `arn:arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/prod-eu`)],
    );

    expect(summary).toEqual(["create prod-eu/orders/api api"]);
  });

  it("refuses catalog overrides and entries the stack does not list, with a finding", () => {
    const { summary, state } = plan(
      [
        cluster("prod", {
          "pod-identity/templates": "external-dns@attacker/sa cert-manager aws-ebs-csi-driver",
        }),
      ],
      [],
      [],
      {},
      { ...DEFAULT_ADMISSION, catalogEntries: ["external-dns", "cert-manager"] },
    );

    expect(summary).toEqual([`create prod/cert-manager/cert-manager pod-identity-cert-manager`]);
    expect(state.findings.filter((f) => f.code === "CATALOG_NOT_ALLOWED").map((f) => f.message)).toEqual([
      expect.stringContaining("external-dns@attacker/sa"),
      expect.stringContaining("aws-ebs-csi-driver"),
    ]);
  });

  it("allows an override naming the upstream service account without configuration", () => {
    const { summary } = plan(
      [cluster("prod", { "pod-identity/templates": "external-dns@external-dns/external-dns" })],
      [],
    );

    expect(summary).toEqual(["create prod/external-dns/external-dns pod-identity-external-dns"]);
  });
});
