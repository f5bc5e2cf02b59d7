import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";

/** Error raised when the local account cannot start (moto missing, port trouble, timeout). */
export class LocalAccountError extends Error {
  override name = "LocalAccountError";
}

/** Finds a free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True when `moto_server` can be found on PATH. */
export function motoInstalled(): boolean {
  return spawnSync("sh", ["-c", "command -v moto_server"], { stdio: "ignore" }).status === 0;
}

// prctl(PR_SET_PDEATHSIG, SIGTERM) before exec: the kernel stops moto when the process that
// spawned it dies, even by SIGKILL, so no moto is ever left behind by a crashed test run.
const PDEATHSIG_WRAPPER = [
  "import ctypes, os, signal, sys",
  "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)",
  "os.execvp('moto_server', ['moto_server'] + sys.argv[1:])",
].join("\n");

/** A running moto_server child process. */
export interface MotoProcess {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of live) child.kill("SIGTERM");
  });
}

/** Starts moto_server on a free loopback port and waits until it answers. */
export async function startMoto(options: { readyTimeoutMs?: number } = {}): Promise<MotoProcess> {
  if (!motoInstalled()) {
    throw new LocalAccountError(
      "moto_server is not on PATH: install Python moto with its server extra (pip install 'moto[server]').",
    );
  }
  const port = await freePort();
  const child = spawn("python3", ["-c", PDEATHSIG_WRAPPER, "-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: "true", MOTO_IAM_LOAD_MANAGED_POLICIES: "true" },
  });
  live.add(child);
  installExitHook();
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", () => live.delete(child));

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new LocalAccountError(`moto_server exited early: ${stderr.trim()}`);
    try {
      const res = await fetch(`${url}/moto-api/`);
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new LocalAccountError(`moto_server did not answer on ${url}: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    url,
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
