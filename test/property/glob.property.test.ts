import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { wildcardMatch } from "../../functions/core/iam/index.js";

/** Reference: IAM glob as a regular expression (fine on tiny inputs). */
function reference(pattern: string, value: string): boolean {
  const body = [...pattern]
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`, "s").test(value);
}

describe("wildcardMatch", () => {
  it("agrees with a regular-expression reference", () => {
    const alphabet = fc.constantFrom("a", "b", "*", "?", ":");
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 8 }),
        fc.array(fc.constantFrom("a", "b", ":"), { maxLength: 10 }),
        (p, s) => {
          expect(wildcardMatch(p.join(""), s.join(""))).toBe(reference(p.join(""), s.join("")));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("stays fast on inputs that make backtracking matchers blow up", () => {
    // Prepare: 40 stars before a final literal that never matches
    const pattern = `${"a*".repeat(40)}b`;
    const value = "a".repeat(20_000);
    // Act
    const started = performance.now();
    const result = wildcardMatch(pattern, value);
    const elapsed = performance.now() - started;
    // Assess
    expect(result).toBe(false);
    expect(elapsed).toBeLessThan(500);
  });
});
