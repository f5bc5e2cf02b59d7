import { describe, expect, it } from "vitest";
import { alreadyCovered, SKEW_MS } from "../../../functions/app/work-items.js";
import { groupWorkRecords } from "../../../functions/app/work-records.js";

const record = (messageId: string, body: unknown, group?: string, sent = 1000) => ({
  messageId,
  body: typeof body === "string" ? body : JSON.stringify(body),
  attributes: { ...(group ? { MessageGroupId: group } : {}), SentTimestamp: String(sent) },
  eventSource: "aws:sqs" as const,
});

describe("work items", () => {
  it("groups a batch by cluster, in order, and rejects what is not a work item", () => {
    const { groups, rejected } = groupWorkRecords([
      record("1", { clusterName: "a", trigger: "sweep" }, "a"),
      record("2", { clusterName: "b" }, "b"),
      record("3", { clusterName: "a", trigger: "iam-event" }, "a", 2000),
      record("4", "not json", "a"),
      record("5", { clusterName: "a", roles: [] }, "a"),
      record("6", { clusterName: "b" }, "a"),
      record("7", { clusterName: "../x" }, "../x"),
    ]);
    expect([...groups]).toEqual([
      ["a", { messageIds: ["1", "3"], sentAtMs: [1000, 2000] }],
      ["b", { messageIds: ["2"], sentAtMs: [1000] }],
    ]);
    expect(rejected.map((r) => r.messageId)).toEqual(["4", "5", "6", "7"]);
  });

  it("coalesces items sent before a completed reconcile started, allowing for clock skew", () => {
    const from = new Date(100_000).toISOString();
    expect(alreadyCovered([100_000 - SKEW_MS - 1], from)).toBe(true);
    expect(alreadyCovered([100_000 - SKEW_MS - 1, 100_000 - SKEW_MS], from)).toBe(false);
    expect(alreadyCovered([1], undefined)).toBe(false);
    expect(alreadyCovered([Number.NaN], from)).toBe(false);
  });
});
