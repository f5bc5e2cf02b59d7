import { App } from "aws-cdk-lib";
import { buildApp } from "../../infra/app.js";

export type Template = { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };

/**
 * Synthesizes the real CDK app (cdk-nag included) and returns each stack's template. Asset
 * bundling is skipped: templates and definitions do not depend on the bundled code.
 */
export function synthTemplates(context: Record<string, unknown> = {}): Record<string, Template> {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [], ...context } });
  const assembly = buildApp(app).synth();
  return Object.fromEntries(assembly.stacks.map((s) => [s.stackName, s.template as Template]));
}

/** Maps a function's logical id to its folder name (ClusterEventFunction… → cluster-event). */
export function functionNameOf(logicalId: string): string {
  const match = /^(ClusterEvent|IamEvent|Sweeper|ReconcileWorker|Migration)Function/.exec(logicalId);
  if (!match) return logicalId;
  return match[1]!.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase();
}
