#!/usr/bin/env node
// The `podid` command: runs the CLI bundle built by `npm run build` (npm install builds it via `prepare`).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const bundle = fileURLToPath(new URL("../dist/cli/podid.mjs", import.meta.url));
if (!existsSync(bundle)) {
  console.error("podid: dist/cli/podid.mjs is missing; run `npm run build` first.");
  process.exit(2);
}
const { main } = await import(bundle);
process.exitCode = await main(process.argv.slice(2));
