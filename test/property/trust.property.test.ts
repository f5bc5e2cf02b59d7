import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  addPodIdentityTrust,
  lintTrustPolicy,
  parseTrustPolicy,
  podIdentityRefusals,
  policiesEqual,
  removeIrsaTrust,
} from "../../functions/core/trust/index.js";
import {
  ACCOUNT,
  CLUSTER_ARN,
  ISSUER_HOST,
  irsaStatement,
  OTHER_HOST,
  PROVIDER_ARN,
  podsStatement,
} from "../support/policies.js";

const SEED = 20261122;
const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,6}[a-z0-9]$/);
const subject = fc.tuple(label, label).map(([ns, sa]) => `system:serviceaccount:${ns}:${sa}`);
const host = fc.constantFrom(
  ISSUER_HOST,
  OTHER_HOST,
  "oidc.eks.ap-south-1.amazonaws.com/id/FEDCBA9876543210FEDCBA9876543210",
);
const irsa = fc
  .record({ subjects: fc.uniqueArray(subject, { minLength: 1, maxLength: 4 }), host })
  .map(({ subjects, host: h }) =>
    irsaStatement(subjects.length === 1 ? subjects[0]! : subjects, { host: h }),
  );
const pods = fc
  .record({
    account: fc.option(fc.constantFrom(ACCOUNT, "999999999999"), { nil: undefined }),
    tagSession: fc.boolean(),
  })
  .map(({ account, tagSession }) =>
    podsStatement({
      Action: tagSession ? ["sts:AssumeRole", "sts:TagSession"] : "sts:AssumeRole",
      ...(account ? { Condition: { StringEquals: { "aws:SourceAccount": account } } } : {}),
    }),
  );
const statement = fc.oneof(irsa, pods);
const policyDoc = fc
  .array(statement, { minLength: 1, maxLength: 5 })
  .map((Statement) => ({ Version: "2012-10-17", Statement }) as Record<string, unknown>);

/** Mutates a valid policy at a random place with a random JSON value. */
const mutated = fc
  .tuple(policyDoc, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.jsonValue())
  .map(([doc, path, value]) => {
    const copy = structuredClone(doc) as Record<string, unknown>;
    let node: unknown = copy;
    for (let i = 0; i < path.length - 1 && node && typeof node === "object"; i++) {
      const keys = Object.keys(node as object);
      if (keys.length === 0) break;
      node = (node as Record<string, unknown>)[keys[path[i]! % keys.length]!];
    }
    if (node && typeof node === "object") {
      const keys = Object.keys(node as object);
      const key = keys.length > 0 ? keys[path.at(-1)! % keys.length]! : "x";
      (node as Record<string, unknown>)[key] = value;
    }
    return JSON.stringify(copy);
  });

describe("trust engine properties", () => {
  it("never throws, whatever the input string", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.json(), mutated), (text) => {
        const findings = lintTrustPolicy(text, { accountId: ACCOUNT, clusterArns: [CLUSTER_ARN] });
        expect(Array.isArray(findings)).toBe(true);
        parseTrustPolicy(encodeURIComponent(text));
        addPodIdentityTrust(text);
        removeIrsaTrust(text, PROVIDER_ARN, ["system:serviceaccount:a:b"]);
        podIdentityRefusals(text, { accountId: ACCOUNT, clusters: [{ name: "prod", arn: CLUSTER_ARN }] });
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it("adding Pod Identity trust is idempotent and leaves a policy EKS accepts", () => {
    fc.assert(
      fc.property(policyDoc, (doc) => {
        const once = addPodIdentityTrust(doc, { sourceAccount: ACCOUNT, clusterArn: CLUSTER_ARN });
        if (!once.ok) throw new Error(once.reason);
        const twice = addPodIdentityTrust(once.document, { sourceAccount: ACCOUNT, clusterArn: CLUSTER_ARN });
        if (!twice.ok) throw new Error(twice.reason);
        expect(twice.changed).toBe(false);
        expect(policiesEqual(twice.document, once.document)).toBe(true);
        expect(
          podIdentityRefusals(JSON.stringify(once.document), {
            accountId: ACCOUNT,
            clusters: [{ name: "prod", arn: CLUSTER_ARN }],
          }),
        ).toEqual([]);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("removing IRSA trust is idempotent and never touches other providers' statements", () => {
    fc.assert(
      fc.property(policyDoc, fc.uniqueArray(subject, { maxLength: 5 }), (doc, subjects) => {
        const once = removeIrsaTrust(doc, PROVIDER_ARN, subjects);
        if (!once.ok) return; // would empty the policy: refused, nothing to check
        const twice = removeIrsaTrust(once.document, PROVIDER_ARN, subjects);
        if (!twice.ok) throw new Error(twice.reason);
        expect(twice.changed).toBe(false);
        expect(policiesEqual(twice.document, once.document)).toBe(true);
        const others = (d: Record<string, unknown>) =>
          (d.Statement as Record<string, unknown>[]).filter((s) => !JSON.stringify(s).includes(ISSUER_HOST));
        expect(others(once.document)).toEqual(others(doc));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("adding a cluster's IRSA statement, then removing its subjects, restores an equal policy", () => {
    fc.assert(
      fc.property(policyDoc, fc.uniqueArray(subject, { minLength: 1, maxLength: 4 }), (doc, subjects) => {
        const withoutThisCluster = (doc.Statement as Record<string, unknown>[]).filter(
          (s) => !JSON.stringify(s).includes(ISSUER_HOST),
        );
        fc.pre(withoutThisCluster.length > 0);
        const original = { ...doc, Statement: withoutThisCluster };
        const added = { ...original, Statement: [...withoutThisCluster, irsaStatement(subjects)] };

        const removed = removeIrsaTrust(added, PROVIDER_ARN, subjects);

        if (!removed.ok) throw new Error(removed.reason);
        expect(policiesEqual(removed.document, original)).toBe(true);
        expect(removed.sizeAfter).toBe(JSON.stringify(original).length);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("structural equality ignores list order and key case", () => {
    fc.assert(
      fc.property(policyDoc, fc.integer(), (doc, salt) => {
        const shuffled = structuredClone(doc) as { Statement: Record<string, unknown>[] };
        shuffled.Statement.reverse();
        for (const s of shuffled.Statement) {
          if (Array.isArray(s.Action))
            s.Action = [...s.Action].reverse().map((a: string) => (salt % 2 ? a.toUpperCase() : a));
          const condition = s.Condition as Record<string, Record<string, unknown>> | undefined;
          if (condition) {
            s.Condition = Object.fromEntries(
              Object.entries(condition).map(([op, block]) => [
                op.toLowerCase(),
                Object.fromEntries(Object.entries(block).map(([k, v]) => [k.toUpperCase(), v])),
              ]),
            );
          }
        }
        expect(policiesEqual(JSON.stringify(shuffled), doc)).toBe(true);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
