import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

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

/** A sample event of `events/` (real record shapes, see events/README.md), parsed afresh. */
export function sampleEvent(name: string): any {
  return JSON.parse(readFileSync(`events/${name}`, "utf8"));
}
