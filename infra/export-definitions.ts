import { mkdirSync, writeFileSync } from "node:fs";
import { clusterWaitLoopDefinition, migrationDefinition } from "./definitions.js";

// Part of `npm run build`: the state machine definitions the CLI runs locally, synthesized by the
// same constructs the stack deploys (a test proves the deployed and exported definitions equal).
mkdirSync("dist/state-machines", { recursive: true });
writeFileSync(
  "dist/state-machines/migration.asl.json",
  `${JSON.stringify(migrationDefinition(), null, 2)}\n`,
);
writeFileSync(
  "dist/state-machines/cluster-wait.asl.json",
  `${JSON.stringify(clusterWaitLoopDefinition(), null, 2)}\n`,
);
