import { describe, expect, it } from "vitest";
import { decideAll, decideTrust } from "../../../local/trust-eval.js";

const provider = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC";
const host = "oidc.eks.us-east-1.amazonaws.com/id/ABC";
const web = { type: "Federated" as const, ids: [provider] };
const pods = { type: "Service" as const, ids: ["pods.eks.amazonaws.com"] };

function policy(...statements: Record<string, unknown>[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

function allowWeb(condition?: Record<string, unknown>): Record<string, unknown> {
  return {
    Effect: "Allow",
    Principal: { Federated: provider },
    Action: "sts:AssumeRoleWithWebIdentity",
    ...(condition ? { Condition: condition } : {}),
  };
}

/** a policy variable the request has no value for */
const MISSING_VARIABLE = ["$", "{aws:PrincipalTag/none}"].join("");
const sub = (value: string) => ({ [`${host}:sub`.toLowerCase()]: value });

describe("decideTrust", () => {
  it("lets an applicable Deny win over an Allow", () => {
    // Prepare
    const doc = policy(allowWeb(), {
      ...allowWeb({ StringEquals: { [`${host}:sub`]: "system:serviceaccount:a:b" } }),
      Effect: "Deny",
    });
    // Act
    const denied = decideTrust(doc, web, "sts:AssumeRoleWithWebIdentity", sub("system:serviceaccount:a:b"));
    const allowed = decideTrust(doc, web, "sts:AssumeRoleWithWebIdentity", sub("system:serviceaccount:a:c"));
    // Assess
    expect(denied).toEqual({ decision: "explicit-deny", statement: 1 });
    expect(allowed).toEqual({ decision: "allow", statement: 0 });
  });

  it("matches negated operators and IfExists on an absent key, and nothing else", () => {
    // Prepare
    const negated = policy(allowWeb({ StringNotEquals: { "aws:RequestTag/x": "y" } }));
    const ifExists = policy(allowWeb({ StringEqualsIfExists: { "aws:RequestTag/x": "y" } }));
    const plain = policy(allowWeb({ StringEquals: { "aws:RequestTag/x": "y" } }));
    // Act
    const outcomes = [negated, ifExists, plain].map(
      (doc) => decideTrust(doc, web, "sts:AssumeRoleWithWebIdentity", {}).decision,
    );
    // Assess
    expect(outcomes).toEqual(["allow", "allow", "implicit-deny"]);
  });

  it("needs the right principal type and id", () => {
    // Prepare
    const doc = policy(allowWeb());
    // Act
    const other = decideTrust(
      doc,
      { type: "Federated", ids: [`${provider}X`] },
      "sts:AssumeRoleWithWebIdentity",
      {},
    );
    const service = decideTrust(doc, pods, "sts:AssumeRoleWithWebIdentity", {});
    // Assess
    expect([other.decision, service.decision]).toEqual(["implicit-deny", "implicit-deny"]);
  });

  it("evaluates multivalued aws:TagKeys with ForAllValues and refuses TagSession when it is not granted", () => {
    // Prepare
    const doc = policy({
      Effect: "Allow",
      Principal: { Service: "pods.eks.amazonaws.com" },
      Action: ["sts:AssumeRole", "sts:TagSession"],
      Condition: {
        "ForAllValues:StringEquals": { "aws:TagKeys": ["eks-cluster-name", "kubernetes-namespace"] },
      },
    });
    const onlyAssume = policy({
      Effect: "Allow",
      Principal: { Service: "pods.eks.amazonaws.com" },
      Action: "sts:AssumeRole",
    });
    // Act
    const within = decideAll(doc, pods, ["sts:AssumeRole", "sts:TagSession"], {
      "aws:tagkeys": ["eks-cluster-name"],
    });
    const beyond = decideAll(doc, pods, ["sts:AssumeRole"], {
      "aws:tagkeys": ["eks-cluster-name", "kubernetes-pod-uid"],
    });
    const noTagSession = decideAll(onlyAssume, pods, ["sts:AssumeRole", "sts:TagSession"], {});
    // Assess
    expect(within).toEqual({ allowed: true });
    expect(beyond.allowed).toBe(false);
    expect(noTagSession).toMatchObject({ allowed: false, action: "sts:TagSession" });
  });

  it("never grants on a condition it cannot decide, and lets such a Deny apply", () => {
    // Prepare
    const undecidableAllow = policy(
      allowWeb({ StringEquals: { "aws:PrincipalTag/team": MISSING_VARIABLE } }),
    );
    const undecidableDeny = policy(allowWeb(), {
      ...allowWeb({ StringEquals: { "aws:RequestTag/x": MISSING_VARIABLE } }),
      Effect: "Deny",
    });
    // Act
    const allow = decideTrust(undecidableAllow, web, "sts:AssumeRoleWithWebIdentity", {
      "aws:principaltag/team": "a",
    });
    const deny = decideTrust(undecidableDeny, web, "sts:AssumeRoleWithWebIdentity", {
      "aws:requesttag/x": "a",
    });
    // Assess
    expect(allow.decision).toBe("implicit-deny");
    expect(deny.decision).toBe("explicit-deny");
  });

  it("refuses an unreadable policy", () => {
    // Act
    const decision = decideTrust("{not json", web, "sts:AssumeRoleWithWebIdentity", {});
    // Assess
    expect(decision).toMatchObject({ decision: "implicit-deny" });
  });
});
