// `npm run soak [-- --seed N] [-- --runs N]`: the fleet fault suite with 2,000 seeded runs (and a
// longer handler fuzz). fast-check prints the seed and path of any failure; this prints the seed
// of the whole soak first, so any run can be replayed with FLEET_SEED.
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { seed: { type: "string" }, runs: { type: "string" } } });
const seed = values.seed ?? String(Date.now() % 2 ** 31);
const runs = values.runs ?? "2000";
console.log(
  `soak: ${runs} fleet runs, seed ${seed} (replay: FLEET_SEED=${seed} FLEET_RUNS=${runs} npx vitest run test/property/fleet-faults.property.test.ts)`,
);
const result = spawnSync(
  "vitest",
  ["run", "test/property/fleet-faults.property.test.ts", "test/property/handlers.fuzz.test.ts"],
  {
    stdio: "inherit",
    env: { ...process.env, FLEET_RUNS: runs, FLEET_SEED: seed, FUZZ_RUNS: "5000", FUZZ_SEED: seed },
  },
);
if (result.status !== 0) console.log(`soak FAILED with seed ${seed}`);
process.exit(result.status ?? 1);
