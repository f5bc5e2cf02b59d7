import { describe, expect, it } from "vitest";
import { CATALOG_NAMES } from "../../../functions/core/catalog.js";
import { parseClusterSettings, parseTemplate, selectsCluster } from "../../../functions/core/tags.js";
import { role, template } from "../../support/fleet.js";

describe("parseTemplate", () => {
  it("reads bind, bind-2…bind-9, clusters, session-tags and target-role", () => {
    const r = role("app", {
      "pod-identity/bind": "orders/api orders/worker",
      "pod-identity/bind-2": "billing/api",
      "pod-identity/clusters": "name:prod prefix:eu- tag:env=prod all",
      "pod-identity/session-tags": "disabled",
      "pod-identity/target-role": "arn:aws:iam::210987654321:role/data",
    });

    const { template: t, findings } = parseTemplate(r);

    expect(findings).toEqual([]);
    expect(t).toEqual({
      roleName: "app",
      roleArn: r.arn,
      bindings: [
        { namespace: "orders", serviceAccount: "api" },
        { namespace: "orders", serviceAccount: "worker" },
        { namespace: "billing", serviceAccount: "api" },
      ],
      selectors: [
        { kind: "name", name: "prod" },
        { kind: "prefix", prefix: "eu-" },
        { kind: "tag", key: "env", value: "prod" },
        { kind: "all" },
      ],
      disableSessionTags: true,
      targetRoleArn: "arn:aws:iam::210987654321:role/data",
    });
  });

  it("is not a template without a bind tag", () => {
    expect(parseTemplate(role("plain", { team: "a" }))).toEqual({ findings: [] });
    expect(parseTemplate(role("half", { "pod-identity/clusters": "all" })).findings[0]?.code).toBe(
      "TEMPLATE_INCOMPLETE",
    );
  });

  it.each([
    ["a namespace that is not a DNS-1123 label", { "pod-identity/bind": "Orders/api" }, "pod-identity/bind"],
    ["a binding without a slash", { "pod-identity/bind": "orders-api" }, "pod-identity/bind"],
    [
      "a service account that is not a DNS-1123 subdomain",
      { "pod-identity/bind": "orders/-api" },
      "pod-identity/bind",
    ],
    [
      "a missing clusters tag",
      { "pod-identity/bind": "orders/api", "pod-identity/clusters": undefined },
      "pod-identity/clusters",
    ],
    ["an unknown selector", { "pod-identity/clusters": "region:eu" }, "pod-identity/clusters"],
    ["a bad session-tags value", { "pod-identity/session-tags": "off" }, "pod-identity/session-tags"],
    [
      "a target role that is not a role ARN",
      { "pod-identity/target-role": "data-role" },
      "pod-identity/target-role",
    ],
    ["a wildcard (not a valid tag character)", { "pod-identity/bind": "orders/*" }, "pod-identity/bind"],
    ["bind-10 (not in the contract)", { "pod-identity/bind-10": "orders/api" }, "pod-identity/bind-10"],
  ])("skips the whole template for %s, naming the tag", (_label, tags, tag) => {
    const base = { "pod-identity/bind": "orders/api billing/api", "pod-identity/clusters": "all" };
    const merged = Object.fromEntries(
      Object.entries({ ...base, ...tags }).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;

    const { template: t, findings } = parseTemplate(role("app", merged));

    expect(t).toBeUndefined();
    expect(
      findings.some((f) => f.code === "TEMPLATE_INVALID" && f.message.includes(tag) && f.roleName === "app"),
    ).toBe(true);
  });

  it("collapses a binding listed twice", () => {
    const { template: t } = parseTemplate(template("app", "orders/api orders/api"));
    expect(t?.bindings).toHaveLength(1);
  });
});

describe("selectsCluster", () => {
  const c = { name: "eu-prod", tags: { env: "prod" } };
  it.each([
    [[{ kind: "all" } as const], true],
    [[{ kind: "name", name: "eu-prod" } as const], true],
    [[{ kind: "name", name: "eu" } as const], false],
    [[{ kind: "prefix", prefix: "eu-" } as const], true],
    [[{ kind: "tag", key: "env", value: "prod" } as const], true],
    [[{ kind: "tag", key: "env", value: "dev" } as const], false],
    [[{ kind: "tag", key: "env", value: "dev" } as const, { kind: "prefix", prefix: "eu" } as const], true],
  ])("%j → %s", (selectors, expected) => {
    expect(selectsCluster(selectors, c)).toBe(expected);
  });
});

describe("parseClusterSettings", () => {
  it("reads opt-out, install-agent and catalog entries with overrides", () => {
    const { settings, findings } = parseClusterSettings(
      {
        name: "prod",
        tags: {
          "pod-identity/opt-out": "false",
          "pod-identity/install-agent": "false",
          "pod-identity/templates": "external-dns cert-manager@certs/issuer",
        },
      },
      CATALOG_NAMES,
    );
    expect(findings).toEqual([]);
    expect(settings).toEqual({
      optOut: false,
      installAgent: false,
      catalog: [
        { name: "external-dns" },
        { name: "cert-manager", binding: { namespace: "certs", serviceAccount: "issuer" } },
      ],
    });
  });

  it("treats an unclear opt-out value as opted out, with a finding", () => {
    const { settings, findings } = parseClusterSettings(
      { name: "prod", tags: { "pod-identity/opt-out": "yes" } },
      CATALOG_NAMES,
    );
    expect(settings.optOut).toBe(true);
    expect(findings[0]?.code).toBe("CLUSTER_TAG_INVALID");
  });

  it("skips unknown catalog names and bad overrides with findings", () => {
    const { settings, findings } = parseClusterSettings(
      { name: "prod", tags: { "pod-identity/templates": "nginx external-dns@Bad/sa external-dns" } },
      CATALOG_NAMES,
    );
    expect(settings.catalog).toEqual([{ name: "external-dns" }]);
    expect(findings.map((f) => f.code)).toEqual(["CATALOG_UNKNOWN", "CATALOG_UNKNOWN"]);
  });
});
