import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lintTrustPolicy, podIdentityRefusals } from "../../functions/core/trust/index.js";
import { globMatches, globWork } from "../../functions/core/trust/match.js";
import { ACCOUNT, CLUSTER_ARN, podsStatement, policy } from "../support/policies.js";

const SEED = 20261123;

/** Reference: the textbook dynamic program over (pattern prefix, value prefix). */
function reference(pattern: string, value: string): boolean {
  const p = Array.from(pattern);
  const v = Array.from(value);
  let row = new Array<boolean>(v.length + 1).fill(false);
  row[0] = true;
  for (const ch of p) {
    const next = new Array<boolean>(v.length + 1).fill(false);
    next[0] = ch === "*" && row[0]!;
    for (let j = 1; j <= v.length; j++) {
      next[j] = ch === "*" ? row[j]! || next[j - 1]! : row[j - 1]! && (ch === "?" || ch === v[j - 1]);
    }
    row = next;
  }
  return row[v.length]!;
}

const bound = (p: string, v: string) => (Array.from(p).length + 1) * (Array.from(v).length + 1);

/** Patterns built to make a backtracking matcher explode: runs of `*?` with a final mismatch. */
const adversarialPattern = fc
  .tuple(
    fc.integer({ min: 1, max: 60 }),
    fc.constantFrom("#", "b", "a", ""),
    fc.constantFrom("*?", "?*", "*a", "**"),
  )
  .map(([n, tail, unit]) => `${unit.repeat(n)}${tail}`);
const smallAlphabet = fc.stringMatching(/^[ab*?]{0,14}$/);
const smallValue = fc.stringMatching(/^[ab]{0,16}$/);

describe("globMatches: IAM wildcards in linear time", () => {
  it("agrees with the reference on random small patterns", () => {
    fc.assert(
      fc.property(smallAlphabet, smallValue, (pattern, value) => {
        expect(globMatches(pattern, value)).toBe(reference(pattern, value));
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it("agrees with the reference on adversarial patterns, within (|p|+1)(|v|+1) steps", () => {
    fc.assert(
      fc.property(adversarialPattern, fc.integer({ min: 0, max: 200 }), (pattern, n) => {
        const value = "a".repeat(n);
        const work = globWork(pattern, value);
        expect(work.matched).toBe(reference(pattern, value));
        expect(work.steps).toBeLessThanOrEqual(bound(pattern, value));
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it("takes a bounded number of steps on the security review's ReDoS pattern at the policy size limit", () => {
    // Prepare: 15 characters took 2.7 s before, x7 per extra "*?"; this one has 1,000 pairs
    const pattern = `${"*?".repeat(1000)}#`;
    const value = CLUSTER_ARN.repeat(3);

    // Act
    const work = globWork(pattern, value);

    // Assess
    expect(work.matched).toBe(false);
    expect(work.steps).toBeLessThanOrEqual(bound(pattern, value));
  });

  it("matches case-insensitively when asked (actions) and per character, not per UTF-16 unit", () => {
    expect(globMatches("STS:Assume*", "sts:AssumeRole", true)).toBe(true);
    expect(globMatches("STS:Assume*", "sts:AssumeRole")).toBe(false);
    expect(globMatches("a?b", "a😀b")).toBe(true);
  });

  it("trust lint and refusals finish on a size-limit policy full of adversarial patterns", () => {
    // Prepare: a policy at the 2,048-character limit whose conditions are backtracking traps
    const traps = Array.from(
      { length: 6 },
      (_, i) => `arn:aws:eks:*:${ACCOUNT}:cluster/${"*?".repeat(150)}#${i}`,
    );
    const text = policy(
      podsStatement({
        Condition: {
          ArnLike: { "aws:SourceArn": traps },
          StringLike: { "aws:SourceAccount": `${"*?".repeat(20)}#` },
        },
      }),
    );
    const clusters = [{ name: "prod", arn: CLUSTER_ARN }];

    // Act
    const findings = lintTrustPolicy(text, { accountId: ACCOUNT, clusterArns: [CLUSTER_ARN] });
    const refusals = podIdentityRefusals(text, { accountId: ACCOUNT, clusters });

    // Assess
    expect(findings.map((f) => f.code)).toContain("SOURCE_ARN_EXCLUDES_CLUSTER");
    expect(refusals).toHaveLength(1);
  });
});
