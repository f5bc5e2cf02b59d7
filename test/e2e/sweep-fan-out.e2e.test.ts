import { pathToFileURL } from "node:url";
import aslValidator from "asl-validator";
import { StateMachine } from "aws-local-stepfunctions";
import { beforeAll, describe, expect, it } from "vitest";
import { stateMachinesOf } from "../../infra/definitions.js";
import { seedSampleFleet } from "../../local/sample-fleet.js";
import { ACCOUNT_ID, awsClientsFor, useLocalAccount } from "../support/local-account.js";
import { functionNameOf, synthTemplates } from "../support/synth.js";

type Handler = (event: unknown) => Promise<any>;

const ctx = useLocalAccount();
let definition: Record<string, unknown>;
let sweeper: Handler;

beforeAll(async () => {
  const machines = stateMachinesOf(
    synthTemplates()["PodIdentityAutopilot-us-east-1"] as never,
    functionNameOf,
  );
  definition = Object.entries(machines).find(([id]) => id.startsWith("SweepFanOut"))![1];
  Object.assign(process.env, ctx.account.env(), {
    ACCOUNT_ID,
    POWERTOOLS_LOG_LEVEL: "SILENT",
    POWERTOOLS_METRICS_DISABLED: "true",
  });
  sweeper = ((await import(pathToFileURL("dist/functions/sweeper/index.mjs").href)) as { handler: Handler })
    .handler;
}, 120_000);

describe("the scheduled sweep fan-out (synthesized definition, built sweeper bundle)", () => {
  it("is valid ASL", () => {
    expect(aslValidator(structuredClone(definition)).isValid).toBe(true);
  });

  it("plans units, reads the roles once, and sweeps every unit", async () => {
    // Prepare
    await seedSampleFleet(awsClientsFor(ctx.account.endpoint), ACCOUNT_ID);
    const units: string[][] = [];
    await ctx.account.resetCalls();

    // Act
    const machine = new StateMachine(structuredClone(definition) as never, {
      validationOptions: { checkArn: false },
    });
    await machine.run({} as never, {
      overrides: {
        taskResourceLocalHandlers: {
          PlanSweep: async (input: any) => await sweeper({ ...input, clustersPerUnit: 2 }),
          SweepUnit: async (input: any) => {
            units.push(input.clusters);
            expect(input.breakerFloor).toBe(3);
            return await sweeper(input);
          },
        },
      },
    }).result;
    const calls = (await ctx.account.calls()).calls;

    // Assess
    expect(units).toEqual([["legacy-batch", "payments-prod"], ["payments-staging"]]);
    expect(calls.ListRoles).toBe(1);
    expect(calls.CreatePodIdentityAssociation).toBe(8);
  });
});
