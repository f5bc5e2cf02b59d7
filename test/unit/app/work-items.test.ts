import { describe, expect, it } from "vitest";
import { alreadyCovered, handleClusterWork, SKEW_MS } from "../../../functions/app/work-items.js";
import { groupWorkRecords } from "../../../functions/app/work-records.js";
import { BusyError } from "../../../functions/core/errors.js";
import { cluster } from "../../support/fleet.js";
import { memoryWorld, SETTINGS } from "../../support/memory-ports.js";

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

  it("requeues a cluster whose shared catalog role is busy behind its queue group, and fails other errors", async () => {
    // Prepare: prod asks for a catalog entry; another cluster's worker holds the role's lease once
    const w = memoryWorld();
    w.eks.clusters.set("prod", cluster("prod", { "pod-identity/templates": "cert-manager" }));
    const ensure = w.iam.ensureCatalogRoles.bind(w.iam);
    let busy = 1;
    w.iam.ensureCatalogRoles = async (...args: Parameters<typeof ensure>) => {
      if (busy-- > 0) throw new BusyError("lease of pod-identity-cert-manager held by reconcile-worker");
      return ensure(...args);
    };

    // Act
    const first = await handleClusterWork(w.deps, SETTINGS, "prod", [0]);
    const queued = w.queue.pending.map((m) => m.item);
    const second = await handleClusterWork(w.deps, SETTINGS, "prod", [1]);
    w.iam.ensureCatalogRoles = async () => {
      throw new Error("IAM is down");
    };
    w.eks.associations.clear();
    const failing = handleClusterWork(w.deps, SETTINGS, "prod", []);

    // Assess
    expect(first).toMatchObject({ status: "requeued" });
    expect(queued).toEqual([{ clusterName: "prod", trigger: "requeue" }]);
    expect(second).toMatchObject({ status: "reconciled", result: { created: 1 } });
    await expect(failing).rejects.toThrow("IAM is down");
  });
});
