import { type Command, InvalidArgumentError } from "commander";
import { localWorkEnv, startLocalAccount } from "../../../local/index.js";

/** `podid local-aws [--port N]`: runs the local account until SIGINT/SIGTERM. */
export function registerLocalAws(program: Command, setExit: (code: number) => void): void {
  program
    .command("local-aws")
    .description("start the local AWS account (moto + the Pod Identity/add-on extension)")
    .option("--port <n>", "port of the front (default: a free port)", (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535)
        throw new InvalidArgumentError(`not a port number: ${v}`);
      return n;
    })
    .action(async (opts: { port?: number }) => {
      const account = await startLocalAccount({ port: opts.port ?? 0 });
      // the work queue and tables first; AWS_ENDPOINT_URL means "ready"
      for (const [k, v] of Object.entries(localWorkEnv(account.endpoint)))
        process.stdout.write(`${k}=${v}\n`);
      // PODID_LOCAL=1 lets the functions' bundles honour AWS_ENDPOINT_URL (deployed, they never do)
      process.stdout.write(`AWS_ENDPOINT_URL=${account.endpoint}\nPODID_LOCAL=1\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await account.stop();
      setExit(0);
    });
}
