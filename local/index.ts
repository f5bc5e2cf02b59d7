import type { FaultConfig } from "./faults.js";
import { LocalFront } from "./front.js";
import { startMoto } from "./moto-process.js";
import { ensureWorkResources, localWorkEnv } from "./work-resources.js";

export type { FaultConfig } from "./faults.js";
export { LocalAccountError, motoInstalled } from "./moto-process.js";
export { DEFAULT_ACCOUNT_ID } from "./operations.js";
export { LOCAL_WORK, localWorkEnv } from "./work-resources.js";

/** Calls counted per operation since the last reset. */
export interface CallCounts {
  calls: Record<string, number>;
  /** calls per API family (eks-read, eks-write, iam-read, iam-write, sts, other), throttled ones included */
  families: Record<string, number>;
  throttled: Record<string, number>;
  throttledFamilies: Record<string, number>;
}

/** A running local AWS account: moto behind the TypeScript front. */
export interface LocalAccount {
  /** the value for AWS_ENDPOINT_URL */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  readonly accountId: string;
  /** the in-process front, for tests that want to look inside */
  readonly front: LocalFront;
  /** Environment for SDK clients and the AWS CLI pointed at this account. */
  env(): Record<string, string>;
  reset(): Promise<void>;
  setFaults(config: FaultConfig): Promise<void>;
  calls(): Promise<CallCounts>;
  resetCalls(): Promise<void>;
  setClusterState(
    name: string,
    state: { status?: string; platformVersion?: string; computeConfig?: { enabled: boolean } },
  ): Promise<void>;
  /** Moves the front's clock forward (add-on transitions, IAM consistency windows) instead of sleeping. */
  advanceClock(ms: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts moto on a free port and the front on `port` (free when 0); resolves once both answer.
 * The moto process dies with this process, however it ends.
 */
export async function startLocalAccount(options: { port?: number } = {}): Promise<LocalAccount> {
  const moto = await startMoto();
  const front = new LocalFront(moto.url);
  let port: number;
  try {
    port = await front.listen(options.port ?? 0);
  } catch (error) {
    await moto.stop();
    throw error;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  // the work queue and the tables of the reconcile worker, again after every reset
  front.afterReset = () => ensureWorkResources(endpoint);
  try {
    await ensureWorkResources(endpoint);
    front.faults.resetCounters();
  } catch (error) {
    await front.close();
    await moto.stop();
    throw error;
  }
  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${endpoint}/_local/${path}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`local account control ${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
  let stopped = false;
  return {
    endpoint,
    port,
    region: "us-east-1",
    accountId: "123456789012",
    front,
    env: () => ({
      AWS_ENDPOINT_URL: endpoint,
      // the product's clients honour AWS_ENDPOINT_URL only with this flag (the stack never sets it)
      PODID_LOCAL: "1",
      AWS_REGION: "us-east-1",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      ...localWorkEnv(endpoint),
    }),
    reset: async () => {
      await control("POST", "reset");
    },
    setFaults: async (config) => {
      await control("PUT", "faults", config);
    },
    calls: async () => (await control("GET", "calls")) as CallCounts,
    resetCalls: async () => {
      await control("DELETE", "calls");
    },
    setClusterState: async (name, state) => {
      await control("PUT", `clusters/${encodeURIComponent(name)}`, state);
    },
    advanceClock: async (ms) => {
      await control("POST", "clock", { advanceMs: ms });
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await front.close();
      await moto.stop();
    },
  };
}
