import type { Log } from "./ports.js";

/** A logger that drops everything: for callers (the CLI, tests) whose output is their result. */
export const silentLog: Log = { info() {}, warn() {}, error() {} };
