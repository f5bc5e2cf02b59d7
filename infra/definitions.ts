import { App, Stack } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { ClusterWaitLoop } from "./constructs/cluster-wait-loop.js";
import { MigrationStateMachine } from "./constructs/migration-state-machine.js";

/** Placeholder account, region and function ARNs used when definitions are run locally. */
export const LOCAL_ACCOUNT = "123456789012";
export const LOCAL_REGION = "us-east-1";
export function localFunctionArn(name: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:pod-identity-autopilot-${name}`;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Resolves the CloudFormation intrinsics of a DefinitionString (Fn::Join, Fn::GetAtt, Ref) into
 * ASL JSON, mapping resources to names through `names` (logical id → local function name).
 */
export function resolveDefinition(
  definition: Json,
  names: (logicalId: string) => string,
): Record<string, unknown> {
  const resolve = (node: Json): string => {
    if (typeof node === "string") return node;
    if (node && typeof node === "object" && !Array.isArray(node)) {
      if ("Fn::Join" in node) {
        const [sep, parts] = node["Fn::Join"] as [string, Json[]];
        return parts.map(resolve).join(sep);
      }
      if ("Fn::GetAtt" in node) return localFunctionArn(names(String((node["Fn::GetAtt"] as Json[])[0])));
      if ("Ref" in node) {
        const ref = String(node.Ref);
        if (ref === "AWS::Partition") return "aws";
        if (ref === "AWS::Region") return LOCAL_REGION;
        if (ref === "AWS::AccountId") return LOCAL_ACCOUNT;
        if (ref === "AWS::URLSuffix") return "amazonaws.com";
        return names(ref);
      }
    }
    throw new Error(`cannot resolve ${JSON.stringify(node).slice(0, 200)} in a state machine definition`);
  };
  return withoutDefaultQueryLanguage(JSON.parse(resolve(definition)) as Record<string, unknown>);
}

/** JSONPath is the default query language: CDK writes it on some synth paths and not others. */
function withoutDefaultQueryLanguage<T>(node: T): T {
  if (Array.isArray(node)) return node.map(withoutDefaultQueryLanguage) as T;
  if (node && typeof node === "object") {
    return Object.fromEntries(
      Object.entries(node)
        .filter(([k, v]) => !(k === "QueryLanguage" && v === "JSONPath"))
        .map(([k, v]) => [k, withoutDefaultQueryLanguage(v)]),
    ) as T;
  }
  return node;
}

/** Every state machine's resolved definition in a synthesized template, by logical id. */
export function stateMachinesOf(
  template: { Resources: Record<string, { Type: string; Properties: Record<string, Json> }> },
  names: (logicalId: string) => string,
) {
  return Object.fromEntries(
    Object.entries(template.Resources)
      .filter(([, r]) => r.Type === "AWS::StepFunctions::StateMachine")
      .map(([id, r]) => [id, resolveDefinition(r.Properties.DefinitionString as Json, names)]),
  );
}

/** The migration state machines' definitions, by phase (task ARN: the placeholder migration function). */
export function migrationDefinitions(): {
  run: Record<string, unknown>;
  finalize: Record<string, unknown>;
  rollback: Record<string, unknown>;
} {
  const app = new App();
  const stack = new Stack(app, "Definitions", { env: { account: LOCAL_ACCOUNT, region: LOCAL_REGION } });
  const fn = lambda.Function.fromFunctionArn(stack, "Migration", localFunctionArn("migration"));
  new MigrationStateMachine(stack, "MigrationStateMachine", {
    migration: fn,
    logGroup: new logs.LogGroup(stack, "Logs"),
  });
  const template = app.synth().getStackByName("Definitions").template as never;
  return migrationMachinesOf(stateMachinesOf(template, (id) => id));
}

/** Picks the three migration state machines out of resolved definitions by logical id. */
export function migrationMachinesOf(machines: Record<string, Record<string, unknown>>) {
  const pick = (pattern: RegExp) => {
    const found = Object.entries(machines).find(([id]) => pattern.test(id))?.[1];
    if (!found) throw new Error(`no ${pattern.source} state machine synthesized`);
    return found;
  };
  return {
    run: pick(/^MigrationStateMachine(StateMachine)?[0-9A-F]{8}$/),
    finalize: pick(/^MigrationStateMachineFinalizeStateMachine[0-9A-F]{8}$/),
    rollback: pick(/^MigrationStateMachineRollbackStateMachine[0-9A-F]{8}$/),
  };
}

/** The migration run state machine's definition. */
export function migrationDefinition(): Record<string, unknown> {
  return migrationDefinitions().run;
}

/**
 * The cluster wait loop's definition, built by the same construct the stack uses, with the
 * task pointing at a placeholder ARN (run locally, tasks are served by the built bundle).
 */
export function clusterWaitLoopDefinition(): Record<string, unknown> {
  const stack = new Stack(new App(), "Definitions", {
    env: { account: LOCAL_ACCOUNT, region: LOCAL_REGION },
  });
  const fn = lambda.Function.fromFunctionArn(stack, "ClusterEvent", localFunctionArn("cluster-event"));
  new ClusterWaitLoop(stack, "ClusterWaitLoop", {
    clusterEvent: fn,
    logGroup: new logs.LogGroup(stack, "Logs"),
  });
  const template =
    stack.node.root instanceof App
      ? (stack.node.root.synth().getStackByName("Definitions").template as never)
      : (undefined as never);
  const [definition] = Object.values(stateMachinesOf(template, (id) => id));
  if (!definition) throw new Error("no wait loop state machine synthesized");
  return definition;
}
