import { pathToFileURL } from "node:url";
import { SQSClient } from "@aws-sdk/client-sqs";
import { type DrainResult, drainQueue, type WorkerHandler } from "../../functions/cli/work-drain.js";
import type { LocalAccount } from "../../local/index.js";

let worker: Promise<WorkerHandler> | undefined;

/** The built reconcile-worker bundle (process.env must already point at the local account). */
export function workerBundle(): Promise<WorkerHandler> {
  worker ??= import(pathToFileURL("dist/functions/reconcile-worker/index.mjs").href).then(
    (m: { handler: WorkerHandler }) => m.handler,
  );
  return worker;
}

/** Drains the local account's work queue with the worker bundle, as the event source mapping would. */
export async function drainWorkQueue(account: LocalAccount): Promise<DrainResult> {
  const env = account.env();
  const sqs = new SQSClient({
    endpoint: account.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  });
  try {
    return await drainQueue({
      sqs,
      queueUrl: env.WORK_QUEUE_URL ?? "",
      ...(env.WORK_DLQ_URL ? { dlqUrl: env.WORK_DLQ_URL } : {}),
      worker: await workerBundle(),
    });
  } finally {
    sqs.destroy();
  }
}
