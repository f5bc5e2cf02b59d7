import { describe, expect, it } from "vitest";
import {
  checkPolicy,
  evaluateAccess,
  evaluateConditionBlock,
  isAllowed,
  requestContext,
} from "../../../functions/core/iam/index.js";

const v = (key: string) => `\${${key}}`;
const doc = (...Statement: object[]) => ({ Version: "2012-10-17", Statement });
const allow = (Action: unknown, Resource: unknown = "*", Condition?: object) => ({
  Effect: "Allow",
  Action,
  Resource,
  ...(Condition ? { Condition } : {}),
});

describe("evaluation order", () => {
  it("explicit deny beats allow, and nothing matching is an implicit deny", () => {
    // Prepare
    const policy = doc(allow("s3:*"), { Effect: "Deny", Action: "s3:DeleteBucket", Resource: "*" });
    // Act
    const denied = evaluateAccess([policy], { action: "s3:DeleteBucket", resource: "arn:aws:s3:::b" });
    const allowed = evaluateAccess([policy], { action: "S3:GetObject", resource: "arn:aws:s3:::b/k" });
    const none = evaluateAccess([policy], { action: "ec2:RunInstances", resource: "*" });
    // Assess
    expect(denied.decision).toBe("explicitDeny");
    expect(allowed.decision).toBe("allowed");
    expect(none.decision).toBe("implicitDeny");
  });

  it("a permissions boundary must allow too, and its deny wins", () => {
    // Prepare
    const identity = doc(allow(["iam:*", "s3:*"]));
    const boundary = doc(allow("s3:*"), { Effect: "Deny", Action: "s3:DeleteBucket", Resource: "*" });
    // Act
    const s3 = evaluateAccess(
      [identity],
      { action: "s3:GetObject", resource: "*" },
      { boundary: [boundary] },
    );
    const iam = evaluateAccess(
      [identity],
      { action: "iam:CreateRole", resource: "*" },
      { boundary: [boundary] },
    );
    const del = evaluateAccess(
      [identity],
      { action: "s3:DeleteBucket", resource: "*" },
      { boundary: [boundary] },
    );
    // Assess
    expect(s3.decision).toBe("allowed");
    expect(iam).toMatchObject({ decision: "implicitDeny", deniedByBoundary: true });
    expect(del.decision).toBe("explicitDeny");
  });

  it("NotAction and NotResource invert the match", () => {
    // Prepare
    const policy = doc({ Effect: "Allow", NotAction: "iam:*", NotResource: "arn:aws:s3:::secret*" });
    // Act / Assess
    expect(isAllowed([policy], { action: "s3:GetObject", resource: "arn:aws:s3:::open" })).toBe(true);
    expect(isAllowed([policy], { action: "s3:GetObject", resource: "arn:aws:s3:::secret-b" })).toBe(false);
    expect(isAllowed([policy], { action: "IAM:PassRole", resource: "arn:aws:s3:::open" })).toBe(false);
  });

  it("resource wildcards stay inside one ARN component", () => {
    // Prepare
    const policy = doc(allow("ec2:CreateTags", "arn:aws:ec2:*:*:security-group/*"));
    // Act / Assess
    expect(
      isAllowed([policy], {
        action: "ec2:CreateTags",
        resource: "arn:aws:ec2:eu-west-1:1:security-group/sg-1",
      }),
    ).toBe(true);
    expect(
      isAllowed([policy], { action: "ec2:CreateTags", resource: "arn:aws:ec2:eu-west-1:1:volume/vol-1" }),
    ).toBe(false);
    // `*` in the region component cannot swallow "eu-west-1:1" and shift components
    expect(
      isAllowed([doc(allow("s3:x", "arn:aws:s3:*:123:b"))], {
        action: "s3:x",
        resource: "arn:aws:s3:r:9:123:b",
      }),
    ).toBe(false);
  });
});

describe("policy variables", () => {
  const tagged = { "aws:PrincipalTag/eks-cluster-name": "a" };

  it("are substituted in Resource and in String condition values", () => {
    // Prepare
    const policy = doc(
      allow("s3:GetObject", `arn:aws:s3:::bucket/${v("aws:PrincipalTag/eks-cluster-name")}/*`),
      allow("ec2:AttachVolume", "*", {
        StringEquals: { "aws:ResourceTag/cluster": v("aws:PrincipalTag/eks-cluster-name") },
      }),
    );
    // Act / Assess
    expect(
      isAllowed([policy], { action: "s3:GetObject", resource: "arn:aws:s3:::bucket/a/x", context: tagged }),
    ).toBe(true);
    expect(
      isAllowed([policy], { action: "s3:GetObject", resource: "arn:aws:s3:::bucket/b/x", context: tagged }),
    ).toBe(false);
    expect(
      isAllowed([policy], {
        action: "ec2:AttachVolume",
        resource: "*",
        context: { ...tagged, "aws:ResourceTag/cluster": "a" },
      }),
    ).toBe(true);
    expect(
      isAllowed([policy], {
        action: "ec2:AttachVolume",
        resource: "*",
        context: { ...tagged, "aws:ResourceTag/cluster": "b" },
      }),
    ).toBe(false);
  });

  it("are not substituted in condition keys: the key is read literally and never matches", () => {
    // Prepare: the cluster-autoscaler bug of the old catalog
    const key = `aws:ResourceTag/k8s.io/cluster-autoscaler/${v("aws:PrincipalTag/eks-cluster-name")}`;
    const policy = doc(allow("autoscaling:SetDesiredCapacity", "*", { StringEquals: { [key]: "owned" } }));
    const context = { ...tagged, "aws:ResourceTag/k8s.io/cluster-autoscaler/a": "owned" };
    // Act
    const decision = isAllowed([policy], {
      action: "autoscaling:SetDesiredCapacity",
      resource: "*",
      context,
    });
    // Assess
    expect(decision).toBe(false);
    expect(checkPolicy(policy).map((f) => f.code)).toEqual(["VARIABLE_IN_CONDITION_KEY"]);
  });

  it("a variable without value makes the element match nothing, unless it has a default", () => {
    // Prepare
    const plain = doc(allow("s3:GetObject", `arn:aws:s3:::b/${v("aws:PrincipalTag/team")}/*`));
    const withDefault = doc(allow("s3:GetObject", `arn:aws:s3:::b/\${aws:PrincipalTag/team, 'shared'}/*`));
    // Act
    const missing = evaluateAccess([plain], { action: "s3:GetObject", resource: "arn:aws:s3:::b//x" });
    // Assess
    expect(missing.decision).toBe("implicitDeny");
    expect(missing.warnings.join()).toMatch(/no value/);
    expect(isAllowed([withDefault], { action: "s3:GetObject", resource: "arn:aws:s3:::b/shared/x" })).toBe(
      true,
    );
  });

  it("the escapes for * ? and $ are literal characters, and substituted text is never a wildcard", () => {
    // Prepare
    const policy = doc(allow("s3:GetObject", `arn:aws:s3:::b/${v("*")}${v("?")}${v("$")}`));
    const byName = doc(allow("s3:GetObject", `arn:aws:s3:::b/${v("aws:username")}`));
    // Act / Assess
    expect(isAllowed([policy], { action: "s3:GetObject", resource: "arn:aws:s3:::b/*?$" })).toBe(true);
    expect(isAllowed([policy], { action: "s3:GetObject", resource: "arn:aws:s3:::b/xy$" })).toBe(false);
    expect(
      isAllowed([byName], {
        action: "s3:GetObject",
        resource: "arn:aws:s3:::b/other",
        context: { "aws:username": "*" },
      }),
    ).toBe(false);
  });

  it("are not substituted in Numeric values (checker) nor in Action", () => {
    // Prepare
    const policy = doc(
      allow(`s3:${v("aws:username")}`, "*", { NumericLessThan: { "s3:max-keys": v("aws:PrincipalTag/n") } }),
    );
    // Act
    const codes = checkPolicy(policy).map((f) => f.code);
    // Assess
    expect(codes).toEqual(["VARIABLE_IN_ACTION", "VARIABLE_NOT_SUBSTITUTED"]);
  });
});

describe("condition operators", () => {
  const ctx = (keys: Record<string, string | string[]>) => requestContext(keys);
  const check = (block: object, keys: Record<string, string | string[]>) =>
    evaluateConditionBlock(block as Record<string, Record<string, unknown>>, ctx(keys));

  it("a missing key fails positive operators and satisfies negated ones, IfExists and ForAllValues", () => {
    expect(check({ StringEquals: { "aws:x": "1" } }, {})).toBe(false);
    expect(check({ StringNotEquals: { "aws:x": "1" } }, {})).toBe(true);
    expect(check({ StringEqualsIfExists: { "aws:x": "1" } }, {})).toBe(true);
    expect(check({ "ForAllValues:StringEquals": { "aws:TagKeys": "a" } }, {})).toBe(true);
    expect(check({ "ForAnyValue:StringEquals": { "aws:TagKeys": "a" } }, {})).toBe(false);
    expect(check({ Null: { "aws:x": "true" } }, {})).toBe(true);
    expect(check({ Null: { "aws:x": "false" } }, { "AWS:X": "v" })).toBe(true);
  });

  it("keys are case-insensitive, values case-sensitive unless IgnoreCase", () => {
    expect(
      check({ StringEquals: { "AWS:PrincipalTag/Team": "Blue" } }, { "aws:principaltag/team": "Blue" }),
    ).toBe(true);
    expect(check({ StringEquals: { "aws:x": "Blue" } }, { "aws:x": "blue" })).toBe(false);
    expect(check({ StringEqualsIgnoreCase: { "aws:x": "Blue" } }, { "aws:x": "blue" })).toBe(true);
    expect(check({ StringLike: { "aws:x": ["no", "bl?e*"] } }, { "aws:x": "blue-sky" })).toBe(true);
    expect(check({ StringNotLike: { "aws:x": ["no", "bl?e*"] } }, { "aws:x": "blue-sky" })).toBe(false);
  });

  it("set operators over multivalued keys", () => {
    const keys = { "aws:TagKeys": ["a", "b"] };
    expect(check({ "ForAllValues:StringEquals": { "aws:TagKeys": ["a", "b", "c"] } }, keys)).toBe(true);
    expect(check({ "ForAllValues:StringEquals": { "aws:TagKeys": ["a"] } }, keys)).toBe(false);
    expect(check({ "ForAnyValue:StringEquals": { "aws:TagKeys": ["b"] } }, keys)).toBe(true);
    expect(check({ "ForAnyValue:StringNotEquals": { "aws:TagKeys": ["a", "b"] } }, keys)).toBe(false);
    expect(check({ "ForAllValues:StringNotEquals": { "aws:TagKeys": ["c"] } }, keys)).toBe(true);
  });

  it("numeric, date, bool, binary, ip and arn operators", () => {
    expect(check({ NumericLessThanEquals: { "s3:max-keys": "10" } }, { "s3:max-keys": "10" })).toBe(true);
    expect(check({ NumericGreaterThan: { "s3:max-keys": "10" } }, { "s3:max-keys": "abc" })).toBe(false);
    expect(
      check(
        { DateLessThan: { "aws:CurrentTime": "2026-01-01T00:00:00Z" } },
        { "aws:CurrentTime": "2025-12-31T23:59:59Z" },
      ),
    ).toBe(true);
    expect(
      check({ DateGreaterThan: { "aws:EpochTime": "1700000000" } }, { "aws:EpochTime": "1700000001" }),
    ).toBe(true);
    expect(check({ Bool: { "aws:SecureTransport": "true" } }, { "aws:SecureTransport": "TRUE" })).toBe(true);
    expect(check({ BinaryEquals: { "k:b": "QmluYXJ5" } }, { "k:b": "QmluYXJ5" })).toBe(true);
    expect(
      check({ IpAddress: { "aws:SourceIp": "203.0.113.0/24" } }, { "aws:SourceIp": "203.0.113.9" }),
    ).toBe(true);
    expect(
      check({ NotIpAddress: { "aws:SourceIp": "203.0.113.0/24" } }, { "aws:SourceIp": "198.51.100.1" }),
    ).toBe(true);
    expect(
      check({ IpAddress: { "aws:SourceIp": "2001:db8::/32" } }, { "aws:SourceIp": "2001:db8:1::5" }),
    ).toBe(true);
    expect(check({ IpAddress: { "aws:SourceIp": "2001:db8::/32" } }, { "aws:SourceIp": "2001:db9::5" })).toBe(
      false,
    );
    expect(
      check(
        { ArnLike: { "aws:SourceArn": "arn:aws:eks:*:111122223333:cluster/*" } },
        { "aws:SourceArn": "arn:aws:eks:eu-west-1:111122223333:cluster/a" },
      ),
    ).toBe(true);
    expect(
      check(
        { ArnNotEquals: { "aws:SourceArn": "arn:aws:eks:*:111122223333:cluster/a" } },
        { "aws:SourceArn": "arn:aws:eks:eu-west-1:111122223333:cluster/a" },
      ),
    ).toBe(false);
  });

  it("open keys are unknown instead of absent (for trust linting)", () => {
    const outcome = evaluateConditionBlock(
      { StringEquals: { "aws:RequestTag/eks-cluster-name": "a" } },
      requestContext({}),
      { isOpen: (k) => k.startsWith("aws:requesttag/") },
    );
    expect(outcome).toBe("unknown");
  });

  it("an unknown operator is a malformed policy", () => {
    expect(() => check({ StringEqualz: { "aws:x": "1" } }, {})).toThrow(/Unknown condition operator/);
    expect(checkPolicy(doc(allow("s3:x", "*", { StringEqualz: { "aws:x": "1" } })))[0]?.code).toBe(
      "UNKNOWN_OPERATOR",
    );
  });
});
