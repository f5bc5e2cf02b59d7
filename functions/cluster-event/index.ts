import { ExecutionAlreadyExists, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { z } from "zod";
import { describeCluster } from "../aws/inventory.js";
import type { Runtime } from "../aws/runtime.js";
import { createWorkRuntime, type WorkRuntime } from "../aws/work-runtime.js";
import { parseEksEvent } from "../core/cloudtrail.js";
import { errorMessage } from "../core/errors.js";

/** Tasks of the cluster wait loop (Step Functions) that onboards a cluster once ACTIVE. */
const waitLoopTask = z.discriminatedUnion("action", [
  z.object({ action: z.literal("check"), clusterName: z.string().min(1).max(100) }),
  z.object({ action: z.literal("onboard"), clusterName: z.string().min(1).max(100) }),
]);

let work: WorkRuntime | undefined;

/** Puts "reconcile cluster C" on the work queue; the worker does the rest. */
async function onboard(clusterName: string) {
  await work!.deps.queue.enqueue([{ clusterName, trigger: "cluster-event" }]);
  return { status: "enqueued" as const, clusterName };
}

async function startWaitLoop(rt: Runtime, clusterName: string, createdAt: Date | undefined) {
  if (!rt.env.WAIT_STATE_MACHINE_ARN) {
    rt.logger.warn("no wait state machine configured; the next sweep onboards the cluster", { clusterName });
    return { status: "deferred" as const, clusterName };
  }
  // one wait loop per cluster incarnation: a redelivered event finds the execution already there
  const name = `${clusterName}-${createdAt ? Math.floor(createdAt.getTime() / 1000) : "unknown"}`.slice(
    0,
    80,
  );
  try {
    await rt.deps.clients.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: rt.env.WAIT_STATE_MACHINE_ARN,
        name,
        input: JSON.stringify({ clusterName }),
      }),
    );
  } catch (error) {
    if (!(error instanceof ExecutionAlreadyExists)) throw error;
  }
  return { status: "waiting" as const, clusterName };
}

/**
 * EKS CloudTrail events (CreateCluster, TagResource, UntagResource, DeleteCluster) and the wait
 * loop's tasks: each enqueues its cluster (a CREATING cluster once ACTIVE, through the wait loop). Invalid, failed-call and foreign events are rejected with a logged reason and
 * no AWS write; they never throw, so they never enter a retry loop.
 */
export const handler = async (event: unknown) => {
  work ??= createWorkRuntime();
  const rt = work.base;
  const task = waitLoopTask.safeParse(event);
  if (task.success) {
    const { action, clusterName } = task.data;
    switch (action) {
      case "check": {
        const cluster = await describeCluster(rt.deps.clients.eks, clusterName);
        return { clusterName, status: cluster?.status ?? "GONE" };
      }
      case "onboard":
        return await onboard(clusterName);
      default: {
        const never: never = action;
        return never;
      }
    }
  }
  const parsed = parseEksEvent(event);
  if (!parsed.ok) {
    rt.logger.warn("event rejected", { reason: parsed.reason });
    return { status: "rejected" as const, reason: parsed.reason };
  }
  const { clusterName } = parsed;
  rt.logger.appendKeys({ clusterName });
  try {
    switch (parsed.eventName) {
      case "CreateCluster": {
        const cluster = await describeCluster(rt.deps.clients.eks, clusterName);
        if (!cluster)
          return { status: "ignored" as const, clusterName, reason: "the cluster no longer exists" };
        if (cluster.status === "ACTIVE") return await onboard(clusterName);
        if (cluster.status === "CREATING") {
          const createdAt = (event as { detail?: { eventTime?: string } }).detail?.eventTime;
          return await startWaitLoop(rt, clusterName, createdAt ? new Date(createdAt) : undefined);
        }
        return { status: "ignored" as const, clusterName, reason: `cluster is ${cluster.status}` };
      }
      case "TagResource":
      case "UntagResource":
        return await onboard(clusterName);
      case "DeleteCluster":
        // EKS deletes a cluster's associations with it; the worker drops it from the index
        return await onboard(clusterName);
      default: {
        const never: never = parsed;
        return never;
      }
    }
  } catch (error) {
    // an AWS failure here is retried by the event's own retry policy and the next sweep
    rt.logger.error("cluster event failed", { error: errorMessage(error) });
    throw error;
  } finally {
    rt.logger.removeKeys(["clusterName"]);
  }
};
