import { pathToFileURL } from "node:url";
import aslValidator from "asl-validator";
import { StateMachine } from "aws-local-stepfunctions";
import { beforeAll, describe, expect, it } from "vitest";
import { readAssociations } from "../../functions/aws/inventory.js";
import { clusterWaitLoopDefinition, stateMachinesOf } from "../../infra/definitions.js";
import { seedSampleFleet } from "../../local/sample-fleet.js";
import { ACCOUNT_ID, awsClientsFor, useLocalAccount } from "../support/local-account.js";
import { functionNameOf, synthTemplates } from "../support/synth.js";
import { drainWorkQueue } from "../support/work-queue.js";

type Handler = (event: unknown) => Promise<any>;

const ctx = useLocalAccount();
let definition: Record<string, any>;
let clusterEvent: Handler;

beforeAll(async () => {
  const templates = synthTemplates();
  const machines = stateMachinesOf(templates["PodIdentityAutopilot-us-east-1"] as never, functionNameOf);
  const [waitLoop] = Object.entries(machines).filter(([id]) => id.startsWith("ClusterWaitLoop"));
  definition = waitLoop![1];
  Object.assign(process.env, ctx.account.env(), {
    ACCOUNT_ID,
    POWERTOOLS_LOG_LEVEL: "SILENT",
    POWERTOOLS_METRICS_DISABLED: "true",
  });
  clusterEvent = (
    (await import(pathToFileURL("dist/functions/cluster-event/index.mjs").href)) as { handler: Handler }
  ).handler;
}, 120_000);

/** Runs the synthesized definition; its Lambda tasks are served by the built cluster-event bundle. */
function run(clusterName: string, onCheck: (n: number) => Promise<void> = async () => {}) {
  let checks = 0;
  const machine = new StateMachine(structuredClone(definition) as never, {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  return machine.run({ clusterName } as never, {
    overrides: {
      waitTimeOverrides: { WaitBeforeCheck: 0 },
      taskResourceLocalHandlers: {
        CheckCluster: async (input: any) => {
          await onCheck(++checks);
          return await clusterEvent(input);
        },
        OnboardCluster: async (input: any) => await clusterEvent(input),
      },
    },
  }).result as Promise<any>;
}

describe("the cluster wait loop (synthesized definition, built bundle, local account)", () => {
  it("is valid ASL and the same definition the tools run", () => {
    expect(aslValidator(structuredClone(definition)).isValid).toBe(true);
    expect(definition).toEqual(clusterWaitLoopDefinition());
  });

  it("polls while CREATING and onboards the cluster once it is ACTIVE", async () => {
    const clients = awsClientsFor(ctx.account.endpoint);
    await seedSampleFleet(clients, ACCOUNT_ID);
    await ctx.account.setClusterState("payments-prod", { status: "CREATING" });

    const result = await run("payments-prod", async (n) => {
      if (n === 3) await ctx.account.setClusterState("payments-prod", { status: "ACTIVE" });
    });

    expect(result.check.status).toBe("ACTIVE");
    expect(result.onboard).toEqual({ status: "enqueued", clusterName: "payments-prod" });
    expect((await drainWorkQueue(ctx.account)).clusters).toEqual(["payments-prod"]);
    expect(await readAssociations(clients.eks, "payments-prod")).toHaveLength(5);
  });

  it.each([
    ["FAILED", async () => ctx.account.setClusterState("payments-prod", { status: "FAILED" })],
    ["GONE", async () => {}],
  ])("gives up when the cluster is %s", async (status, prepare) => {
    const clients = awsClientsFor(ctx.account.endpoint);
    await seedSampleFleet(clients, ACCOUNT_ID);
    await prepare();

    const result = await run(status === "GONE" ? "deleted-meanwhile" : "payments-prod");

    expect(result.check.status).toBe(status);
    expect(result.onboard).toBeUndefined();
  });
});
