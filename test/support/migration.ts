import { pathToFileURL } from "node:url";
import {
  finalizeLocally,
  type LocalRunOptions,
  rollbackLocally,
  runMigrationLocally,
} from "../../functions/cli/migration-runner.js";
import {
  createMigrationDeps,
  localMigrationEnv,
  type MigrationDeps,
} from "../../functions/migration/deps.js";
import type { MigrationTask } from "../../functions/migration/index.js";
import { migrationMachinesOf, stateMachinesOf } from "../../infra/definitions.js";
import { ACCOUNT_ID } from "./local-account.js";
import { functionNameOf, synthTemplates } from "./synth.js";

type Handler = (event: unknown, context?: { getRemainingTimeInMillis(): number }) => Promise<unknown>;

/** The migration state machines as the stack synthesizes them, run with the built bundle. */
export interface MigrationHarness {
  definitions: ReturnType<typeof migrationMachinesOf>;
  deps: MigrationDeps;
  bundle: Handler;
  migrate(
    input: Record<string, unknown>,
    options?: Partial<LocalRunOptions>,
  ): ReturnType<typeof runMigrationLocally>;
  finalize(
    input: Record<string, unknown>,
    options?: Partial<LocalRunOptions>,
  ): ReturnType<typeof finalizeLocally>;
  rollback(
    input: Record<string, unknown>,
    options?: Partial<LocalRunOptions>,
  ): ReturnType<typeof rollbackLocally>;
}

let runs = 0;

/**
 * Sets the environment the stack gives the migration function (for the local account), loads the
 * built bundle and the synthesized definitions. Call in beforeAll after the account started.
 */
export async function migrationHarness(accountEnv: Record<string, string>): Promise<MigrationHarness> {
  const machines = stateMachinesOf(
    synthTemplates()["PodIdentityAutopilot-us-east-1"] as never,
    functionNameOf,
  );
  const definitions = migrationMachinesOf(machines);
  Object.assign(process.env, accountEnv, localMigrationEnv(ACCOUNT_ID), {
    // the local account does not throttle: pacing at AWS's rates would only make the runs slow
    // (pacing itself: test/integration/reconcile/shared-pacing.integration.test.ts)
    PACING_SHARE: "1",
    PACING_RATES: "eks-read=1000,eks-write=1000,iam-read=1000,iam-write=1000,cloudtrail-lookup=1000",
    AWS_MAX_ATTEMPTS: "2",
    POWERTOOLS_LOG_LEVEL: "SILENT",
    POWERTOOLS_METRICS_DISABLED: "true",
  });
  const bundle = (
    (await import(pathToFileURL("dist/functions/migration/index.mjs").href)) as { handler: Handler }
  ).handler;
  const deps = createMigrationDeps();
  const common = (options: Partial<LocalRunOptions>) => ({
    deps,
    soakMs: 0,
    approvalPollMs: 20,
    autoApprove: true,
    invoke: (task: MigrationTask, context: { getRemainingTimeInMillis(): number }) => bundle(task, context),
    ...options,
  });
  return {
    definitions,
    deps,
    bundle,
    async migrate(input, options = {}) {
      await deps.store.ensureTable();
      return await runMigrationLocally({
        definition: definitions.run,
        input: { soakSeconds: 0, ...input },
        migrationId: `run-${++runs}-${Date.now()}`,
        ...common(options),
      });
    },
    async finalize(input, options = {}) {
      await deps.store.ensureTable();
      return await finalizeLocally({
        definition: definitions.finalize,
        input,
        migrationId: `finalize-${++runs}-${Date.now()}`,
        ...common(options),
      });
    },
    async rollback(input, options = {}) {
      await deps.store.ensureTable();
      return await rollbackLocally({
        definition: definitions.rollback,
        input,
        migrationId: `rollback-${++runs}-${Date.now()}`,
        ...common(options),
      });
    },
  };
}
