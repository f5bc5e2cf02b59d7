import { App } from "aws-cdk-lib";
import { buildApp } from "./app.js";

// `npm run synth` / `npx cdk synth`: writes cdk.out; works offline (no lookups)
const assembly = buildApp(new App({ outdir: process.env.CDK_OUTDIR ?? "cdk.out" })).synth();
for (const stack of assembly.stacks) console.log(`${stack.stackName} → ${stack.templateFullPath}`);
