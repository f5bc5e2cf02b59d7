import { mkdirSync, writeFileSync } from "node:fs";
import { clusterWaitLoopDefinition, migrationDefinitions } from "./definitions.js";

// Part of `npm run build`: the state machine definitions the CLI runs locally, synthesized by the
// same constructs the stack deploys (a test proves the deployed and exported definitions equal).
mkdirSync("dist/state-machines", { recursive: true });
const migration = migrationDefinitions();
for (const [phase, file] of [
  ["run", "migration"],
  ["finalize", "migration-finalize"],
  ["rollback", "migration-rollback"],
] as const) {
  writeFileSync(`dist/state-machines/${file}.asl.json`, `${JSON.stringify(migration[phase], null, 2)}\n`);
}
writeFileSync(
  "dist/state-machines/cluster-wait.asl.json",
  `${JSON.stringify(clusterWaitLoopDefinition(), null, 2)}\n`,
);
