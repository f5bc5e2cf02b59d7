import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { beforeAll } from "vitest";
import { ACCOUNT_ID, type useLocalAccount } from "./local-account.js";

/** A Lambda handler as the built bundles export it. */
export type BuiltHandler = (event: unknown, context?: unknown) => Promise<any>;

/**
 * The handler of a built function bundle (`dist/functions/<name>/index.mjs`, `npm run build`);
 * process.env must already hold the function's environment: the bundle reads it at first call.
 */
export async function builtHandler(name: string): Promise<BuiltHandler> {
  const mod = (await import(pathToFileURL(`dist/functions/${name}/index.mjs`).href)) as {
    handler: BuiltHandler;
  };
  return mod.handler;
}

/** The handlers of several built bundles, by name. */
export async function builtHandlers(names: readonly string[]): Promise<Record<string, BuiltHandler>> {
  const out: Record<string, BuiltHandler> = {};
  for (const name of names) out[name] = await builtHandler(name);
  return out;
}

/**
 * The built handlers `names` for a test file on the local account: before its tests, process.env
 * gets the account's environment, `ACCOUNT_ID` and `env` (as Lambda sets a function's), then the
 * bundles load into the returned record.
 */
export function useBuiltHandlers(
  ctx: ReturnType<typeof useLocalAccount>,
  names: readonly string[],
  env: Record<string, string>,
): Record<string, BuiltHandler> {
  const handlers: Record<string, BuiltHandler> = {};
  beforeAll(async () => {
    Object.assign(process.env, ctx.account.env(), { ACCOUNT_ID, ...env });
    Object.assign(handlers, await builtHandlers(names));
  });
  return handlers;
}

/** A sample event of `events/` (real record shapes, see events/README.md), parsed afresh. */
export function sampleEvent(name: string): any {
  return JSON.parse(readFileSync(`events/${name}`, "utf8"));
}
