import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

/** Whether text holds a raw ESC, BEL, CR, 8-bit CSI, bidi override or DEL. */
const hasRawControl = (text: string): boolean =>
  [...text].some((c) => "\u001b\u0007\r\u009b\u202e\u007f".includes(c));

/** The built CLI never writes terminal control characters it read from a policy (security review 13). */
describe("podid text output escapes terminal control characters", () => {
  it("trust lint shows a hostile condition value as visible escapes; --json stays JSON", () => {
    // Prepare: a policy whose condition value clears the screen and sets the window title
    const hostile = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "pods.eks.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession"],
          Condition: { StringEquals: { "aws:SourceArn": "x\u001b[2J\u001b]0;pwned\u0007\u009b31m" } },
        },
      ],
    });

    // Act
    const text = spawnSync(process.execPath, ["bin/podid.mjs", "trust", "lint", "-"], {
      input: hostile,
      encoding: "utf8",
    });
    const json = spawnSync(process.execPath, ["bin/podid.mjs", "trust", "lint", "-", "--json"], {
      input: hostile,
      encoding: "utf8",
    });

    // Assess
    expect(text.stdout).toContain("x\\u001b[2J\\u001b]0;pwned\\u0007\\u009b31m");
    expect(text.stdout).not.toSatisfy(hasRawControl);
    expect(JSON.parse(json.stdout).findings.length).toBeGreaterThan(0);
  });
});
