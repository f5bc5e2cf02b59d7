import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";

const NODE = process.execPath;

function motoPidsFor(port: number): number[] {
  // moto_server is started with "-p <port>": find it by its command line
  const out = execFileSync("ps", ["-eo", "pid=,args="]).toString();
  return out
    .split("\n")
    .filter((line) => line.includes("moto_server") && line.includes(`-p ${port}`))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

function motoPortOf(endpoint: string): Promise<number> {
  return fetch(`${endpoint}/_local/health`)
    .then((r) => r.json() as Promise<{ motoUrl: string }>)
    .then((h) => Number(new URL(h.motoUrl).port));
}

async function startCli(): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = spawn(NODE, ["bin/podid.mjs", "local-aws"], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  const endpoint = await new Promise<string>((resolve, reject) => {
    lines.on("line", (line) => {
      const m = /^AWS_ENDPOINT_URL=(.+)$/.exec(line);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`podid local-aws exited with ${code}`)));
  });
  return { child, endpoint };
}

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

describe("podid local-aws process lifecycle", () => {
  it.each(["SIGINT", "SIGTERM"] as const)(
    "prints the endpoint, answers, and leaves no moto behind on %s",
    async (signal) => {
      // Prepare
      const { child, endpoint } = await startCli();
      const motoPort = await motoPortOf(endpoint);
      expect(motoPidsFor(motoPort)).toHaveLength(1);

      // Act
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill(signal);

      // Assess
      expect(await exited).toBe(0);
      expect(await waitFor(() => motoPidsFor(motoPort).length === 0)).toBe(true);
    },
  );

  it("leaves no moto behind when its parent is killed outright", async () => {
    const { child, endpoint } = await startCli();
    const motoPort = await motoPortOf(endpoint);

    child.kill("SIGKILL");

    expect(await waitFor(() => motoPidsFor(motoPort).length === 0)).toBe(true);
  });

  it("refuses a port that is not a number with exit code 2", () => {
    let status = 0;
    try {
      execFileSync(NODE, ["bin/podid.mjs", "local-aws", "--port", "http"], { stdio: "pipe" });
    } catch (error) {
      status = (error as { status: number }).status;
    }
    expect(status).toBe(2);
  });
});
