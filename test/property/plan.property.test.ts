import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computeDesired } from "../../functions/core/desired.js";
import { type AssociationInfo, slotKey } from "../../functions/core/model.js";
import { isManaged, type PlannedChange, planChanges } from "../../functions/core/plan.js";
import { MANAGED_BY_VALUE, TAG } from "../../functions/core/tags.js";
import { ACCOUNT, association, cluster, role } from "../support/fleet.js";

const SEED = 4242;
const names = ["prod-a", "prod-b", "dev-a", "edge"];
const slots = ["orders/api", "orders/worker", "web/frontend", "kube-system/agent", "data/etl"];

const clusterArb = fc.record({
  name: fc.constantFrom(...names),
  env: fc.constantFrom("prod", "dev"),
  optOut: fc.boolean(),
  status: fc.constantFrom("ACTIVE", "ACTIVE", "ACTIVE", "CREATING"),
  catalog: fc.subarray(["external-dns", "cert-manager"]),
});
const templateArb = fc.record({
  name: fc.constantFrom("r1", "r2", "r3", "r4"),
  bind: fc.subarray(slots, { minLength: 1 }),
  clusters: fc.constantFrom(
    "all",
    "tag:env=prod",
    "tag:pod-identity-scope/env=prod",
    "prefix:prod-",
    "name:edge",
    "region:x",
  ),
  sessionTags: fc.constantFrom("enabled", "disabled", undefined, "maybe"),
});
const actualArb = fc.record({
  cluster: fc.constantFrom(...names),
  slot: fc.constantFrom(...slots, "other/thing"),
  role: fc.constantFrom("r1", "r2", "r3", "stale"),
  kind: fc.constantFrom("managed", "managed", "unmanaged", "addon"),
  disableSessionTags: fc.boolean(),
});

const fleet = fc.record({
  clusters: fc.uniqueArray(clusterArb, { selector: (c) => c.name, minLength: 1 }),
  templates: fc.uniqueArray(templateArb, { selector: (t) => t.name }),
  actual: fc.uniqueArray(actualArb, { selector: (a) => `${a.cluster}/${a.slot}` }),
});

type Fleet = typeof fleet extends fc.Arbitrary<infer T> ? T : never;

function build(f: Fleet) {
  const clusters = f.clusters.map((c) =>
    cluster(
      c.name,
      {
        env: c.env,
        "pod-identity-scope/env": c.env,
        ...(c.optOut ? { "pod-identity/opt-out": "true" } : {}),
        ...(c.catalog.length ? { "pod-identity/templates": c.catalog.join(" ") } : {}),
      },
      { status: c.status },
    ),
  );
  const roles = f.templates.map((t) =>
    role(t.name, {
      "pod-identity/bind": t.bind.join(" "),
      "pod-identity/clusters": t.clusters,
      ...(t.sessionTags ? { "pod-identity/session-tags": t.sessionTags } : {}),
    }),
  );
  const actual = f.actual
    .filter((a) => f.clusters.some((c) => c.name === a.cluster))
    .map((a) => {
      const [ns, sa] = a.slot.split("/") as [string, string];
      return association(a.cluster, ns, sa, a.role, {
        managed: a.kind !== "unmanaged",
        disableSessionTags: a.disableSessionTags,
        ...(a.kind === "addon"
          ? { ownerArn: `arn:aws:eks:us-east-1:${ACCOUNT}:addon/${a.cluster}/x/1` }
          : {}),
      });
    });
  return { clusters, roles, actual };
}

/** What EKS would hold after the changes are applied. */
function simulate(actual: AssociationInfo[], changes: PlannedChange[]): AssociationInfo[] {
  const bySlot = new Map(actual.map((a) => [slotKey(a), a]));
  for (const c of changes) {
    if (c.kind === "delete") bySlot.delete(slotKey(c.actual));
    else {
      const previous = bySlot.get(slotKey(c.desired));
      bySlot.set(slotKey(c.desired), {
        ...(previous ??
          association(c.desired.clusterName, c.desired.namespace, c.desired.serviceAccount, "x")),
        roleArn: c.desired.roleArn,
        disableSessionTags: c.desired.disableSessionTags,
        tags: { [TAG.managedBy]: MANAGED_BY_VALUE, [TAG.source]: c.desired.source },
        ...(c.desired.targetRoleArn ? { targetRoleArn: c.desired.targetRoleArn } : {}),
      });
    }
  }
  return [...bySlot.values()];
}

describe("plan properties", () => {
  it("never touches an unmanaged or add-on-owned association and never deletes a desired one", () => {
    fc.assert(
      fc.property(fleet, (f) => {
        const { clusters, roles, actual } = build(f);
        const state = computeDesired({ clusters, roles, accountId: ACCOUNT });
        const plan = planChanges(state, actual);
        for (const c of [...plan.changes, ...plan.deletions]) {
          if (c.kind === "create") continue;
          expect(isManaged(c.actual)).toBe(true);
          if (c.kind === "delete") expect(state.desired.has(slotKey(c.actual))).toBe(false);
        }
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it("is idempotent: after applying a plan, a second plan changes nothing", () => {
    fc.assert(
      fc.property(fleet, (f) => {
        const { clusters, roles, actual } = build(f);
        const state = computeDesired({ clusters, roles, accountId: ACCOUNT });
        const first = planChanges(state, actual);
        const second = planChanges(state, simulate(actual, [...first.changes, ...first.deletions]));
        expect([...second.changes, ...second.deletions]).toEqual([]);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });
});
