import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SQSClient } from "@aws-sdk/client-sqs";
import { localWorkEnv } from "../../local/work-resources.js";
import type { WorkItem } from "../app/ports.js";
import { createClients } from "../aws/clients.js";
import { listClusterNames, readAssociations } from "../aws/inventory.js";
import { SqsWorkQueue } from "../aws/work-queue.js";
import { slotKey } from "../core/model.js";
import { type DrainResult, drainQueue, lambdaContext, type WorkerHandler } from "./work-drain.js";

/** The functions EventBridge rules route to (names of the bundles in dist/functions/). */
export type FunctionName = "cluster-event" | "iam-event" | "sweeper" | "reconcile-worker";
type Handler = (event: unknown, context: Record<string, unknown>) => Promise<unknown>;

/** Which function the stack's rules deliver an event to; undefined when no rule matches it. */
export function routeOf(event: unknown): FunctionName | undefined {
  if (!event || typeof event !== "object") return undefined;
  const e = event as { source?: unknown; "detail-type"?: unknown };
  if (e.source === "aws.eks" && e["detail-type"] === "AWS API Call via CloudTrail") return "cluster-event";
  if (e.source === "aws.iam" && e["detail-type"] === "AWS API Call via CloudTrail") return "iam-event";
  if (e.source === "aws.events" && e["detail-type"] === "Scheduled Event") return "sweeper";
  return undefined;
}

function bundleDir(): string {
  for (const rel of ["../functions/", "../../dist/functions/"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}reconcile-worker/index.mjs`)) return dir;
  }
  throw new Error("the function bundles are missing: run `npm run build` first");
}

/**
 * The environment the bundles read: whatever the SDK points at, and for a local account (only
 * AWS_ENDPOINT_URL set) the local queue and table names.
 */
export function workEnvironment(): void {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (!process.env.WORK_QUEUE_URL && endpoint) {
    for (const [k, v] of Object.entries(localWorkEnv(endpoint))) process.env[k] ??= v;
  }
  // the bundles log and emit metrics to stdout: keep the command's output readable unless asked
  process.env.POWERTOOLS_LOG_LEVEL ??= "SILENT";
  process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
  if (!process.env.WORK_QUEUE_URL)
    throw new Error("WORK_QUEUE_URL is not set (the local account sets it: `podid local-aws` prints it)");
}

const loaded = new Map<FunctionName, Promise<Handler>>();

/** The built bundle's handler, imported once (a warm execution environment). */
export function bundle(name: FunctionName): Promise<Handler> {
  let h = loaded.get(name);
  if (!h) {
    h = import(pathToFileURL(`${bundleDir()}${name}/index.mjs`).href).then(
      (m: { handler: Handler }) => m.handler,
    );
    loaded.set(name, h);
  }
  return h;
}

/** One delivered event and what its function answered. */
export interface Delivery {
  file?: string;
  function?: FunctionName;
  status: string;
  handled: boolean;
  detail?: string;
}

/** Delivers every event to its function at once, as concurrent invocations. */
export async function deliver(events: { file?: string; event: unknown }[]): Promise<Delivery[]> {
  return await Promise.all(
    events.map(async ({ file, event }): Promise<Delivery> => {
      const fn = routeOf(event);
      if (!fn)
        return {
          ...(file ? { file } : {}),
          status: "unrouted",
          handled: false,
          detail: "no rule matches this event",
        };
      try {
        const out = (await (
          await bundle(fn)
        )(event, lambdaContext(fn))) as { status?: string; reason?: string };
        const status = out?.status ?? "done";
        return {
          ...(file ? { file } : {}),
          function: fn,
          status,
          handled: status !== "rejected",
          ...(out?.reason ? { detail: out.reason } : {}),
        };
      } catch (error) {
        return {
          ...(file ? { file } : {}),
          function: fn,
          status: "failed",
          handled: false,
          detail: String(error),
        };
      }
    }),
  );
}

/** Drains the work queue with the worker bundle, as the event source mapping would. */
export async function drain(): Promise<DrainResult> {
  const sqs = new SQSClient({ region: process.env.AWS_REGION ?? "us-east-1" });
  try {
    return await drainQueue({
      sqs,
      queueUrl: process.env.WORK_QUEUE_URL ?? "",
      ...(process.env.WORK_DLQ_URL ? { dlqUrl: process.env.WORK_DLQ_URL } : {}),
      worker: (await bundle("reconcile-worker")) as WorkerHandler,
    });
  } finally {
    sqs.destroy();
  }
}

/** Puts work items on the queue directly (an operator's decision names its cluster). */
export async function enqueue(items: WorkItem[]): Promise<void> {
  const sqs = new SQSClient({ region: process.env.AWS_REGION ?? "us-east-1" });
  try {
    await new SqsWorkQueue(sqs, process.env.WORK_QUEUE_URL ?? "").enqueue(items);
  } finally {
    sqs.destroy();
  }
}

/** Every association of every cluster as `cluster/ns/sa → role` (to report what a flow changed). */
export async function associationMap(): Promise<Map<string, string>> {
  const { eks } = createClients();
  const map = new Map<string, string>();
  for (const name of await listClusterNames(eks))
    for (const a of await readAssociations(eks, name)) map.set(slotKey(a), a.roleArn);
  return map;
}

/** Created, updated and deleted slots between two association maps. */
export function difference(before: Map<string, string>, after: Map<string, string>) {
  const created = [...after.keys()].filter((k) => !before.has(k)).sort();
  const deleted = [...before.keys()].filter((k) => !after.has(k)).sort();
  const updated = [...after.keys()].filter((k) => before.has(k) && before.get(k) !== after.get(k)).sort();
  return { created, updated, deleted };
}
