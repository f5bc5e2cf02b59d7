// Builds one ESM bundle per Lambda function (dist/functions/<name>/index.mjs) and the CLI
// (dist/cli/podid.mjs). The AWS SDK is bundled, never taken from the Lambda runtime.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { build } from "esbuild";

export const FUNCTIONS = ["cluster-event", "iam-event", "sweeper", "reconcile-worker", "migration"];
const quiet = process.argv.includes("--quiet");

const common = {
  bundle: true,
  platform: "node",
  target: "node22",
  format: "esm",
  minify: true,
  sourcemap: true,
  legalComments: "none",
  mainFields: ["module", "main"],
  // some CommonJS dependencies call require() for Node built-ins
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: "warning",
};

const entries = FUNCTIONS.map((name) => ({
  name,
  entry: `functions/${name}/index.ts`,
  out: `dist/functions/${name}/index.mjs`,
}));
entries.push({ name: "podid (cli)", entry: "functions/cli/podid.ts", out: "dist/cli/podid.mjs" });

mkdirSync("dist", { recursive: true });
const missing = entries.filter((e) => !existsSync(e.entry));
if (missing.length > 0) {
  console.error(`build: missing entry points: ${missing.map((e) => e.entry).join(", ")}`);
  process.exit(1);
}
await Promise.all(entries.map((e) => build({ ...common, entryPoints: [e.entry], outfile: e.out })));
// the state machine definitions, synthesized by the CDK constructs, for local runs
execFileSync(process.execPath, ["--import", "tsx", "infra/export-definitions.ts"], { stdio: "inherit" });
if (!quiet) {
  for (const e of entries)
    console.log(`${e.out.padEnd(40)} ${(statSync(e.out).size / 1024).toFixed(0).padStart(6)} KiB`);
}
