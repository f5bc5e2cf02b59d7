import { describe, expect, it } from "vitest";
import { formatReport } from "../../../functions/cli/commands/migrate.js";
import { terminalSafe } from "../../../functions/cli/terminal.js";
import type { MigrationReport } from "../../../functions/migration/actions/report.js";
import {
  APPROVAL_AUTHORITY,
  approvalOutput,
  recordedApproval,
  rejectionCause,
} from "../../../functions/migration/approval.js";

const approver = "arn:aws:sts::123456789012:assumed-role/Ops/alice";
const at = "2026-11-23T16:00:00.000Z";

function report(approval: MigrationReport["approval"]): MigrationReport {
  return {
    migrationId: "prod-1",
    clusterName: "prod",
    outcome: "succeeded",
    dryRun: false,
    serviceAccounts: [],
    wildcards: [],
    notFound: [],
    roles: [],
    agent: "present",
    ...(approval ? { approval } : {}),
    nextSteps: [],
  };
}

describe("the approver a run records", () => {
  it("records a valid decision with where its authority lies", () => {
    // Act
    const recorded = recordedApproval({ decision: "approved", by: approver, at, extra: "dropped" });

    // Assess
    expect(recorded).toEqual({ decision: "approved", by: approver, at, authority: APPROVAL_AUTHORITY });
    expect(APPROVAL_AUTHORITY).toMatch(/as stated by the approving client.*CloudTrail's SendTaskSuccess/);
  });

  it.each([
    ["the old record without identity or time", { decision: "approved", by: "podid" }],
    ["an approver longer than an ARN can be", { decision: "approved", by: "a".repeat(2049), at }],
    ["a reason over 1,024 characters", { decision: "rejected", by: approver, at, reason: "r".repeat(1025) }],
    ["a time that is not a time", { decision: "approved", by: approver, at: "yesterday" }],
    ["a decision that is neither", { decision: "maybe", by: approver, at }],
  ])("shows none of %s, only that it is unreadable", (_what, raw) => {
    const recorded = recordedApproval(raw);

    expect(recorded?.invalid).toBeTruthy();
    expect(recorded).not.toHaveProperty("by");
    expect(recorded).not.toHaveProperty("decision");
  });

  it("passes the same statement in the SendTaskSuccess output and the SendTaskFailure cause", () => {
    expect(approvalOutput({ decision: "approved", by: approver, at })).toEqual({
      approved: true,
      approvedBy: approver,
      approvedAt: at,
    });
    expect(rejectionCause({ decision: "rejected", by: approver, at, reason: "change freeze" })).toBe(
      `rejected by ${approver} at ${at}: change freeze`,
    );
  });

  it("prints the approver with its caveat, control characters escaped", () => {
    // Prepare: a client that states an identity with terminal escapes in it
    const by = "arn:aws:sts::123456789012:assumed-role/Ops/\u001b]0;owned\u0007alice";
    const recorded = recordedApproval({ decision: "approved", by, at, reason: "ok\u009b2J" });

    // Act
    const text = terminalSafe(formatReport(report(recorded)));

    // Assess
    expect(text).toContain(
      `Approved by arn:aws:sts::123456789012:assumed-role/Ops/\\u001b]0;owned\\u0007alice`,
    );
    expect(text).toContain("CloudTrail's SendTaskSuccess");
    for (const control of ["\u001b", "\u0007", "\u009b"]) expect(text).not.toContain(control);
  });
});
