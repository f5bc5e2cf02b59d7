import type { Command } from "commander";
import { startLocalAccount } from "../../../local/index.js";
import { seedSampleFleet } from "../../../local/sample-fleet.js";
import { createClients } from "../../aws/clients.js";
import { readClusters, readRoles } from "../../aws/inventory.js";
import { renderTable } from "../tables.js";

const POD_IDENTITY_TAG = /^pod-identity\//;

function tagList(tags: Record<string, string>, filter?: RegExp): string {
  return Object.entries(tags)
    .filter(([k]) => !filter || filter.test(k))
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join("\n");
}

/** `podid demo` (what `npm start` runs): the product's story on the local account. */
export function registerDemo(program: Command, setExit: (code: number) => void): void {
  program
    .command("demo")
    .description("run the demo on a fresh local account")
    .action(async () => {
      const account = await startLocalAccount();
      try {
        Object.assign(process.env, account.env());
        const clients = createClients();
        const out = (s: string) => process.stdout.write(`${s}\n`);
        out(`Local AWS account ${account.accountId} at ${account.endpoint}\n`);
        await seedSampleFleet(clients, account.accountId);
        const clusters = await readClusters(clients.eks);
        out("Clusters");
        out(
          renderTable(
            ["cluster", "version", "status", "tags"],
            clusters.map((c) => [c.name, c.version, c.status, tagList(c.tags)]),
          ),
        );
        const roles = await readRoles(clients.iam);
        out("\nRoles");
        out(
          renderTable(
            ["role", "kind", "pod-identity tags"],
            roles
              .filter((r) => r.name !== "eks-cluster-role")
              .map((r) => [
                r.name,
                r.tags["pod-identity/bind"]
                  ? "template"
                  : r.trustPolicy.includes("oidc-provider")
                    ? "IRSA"
                    : "other",
                tagList(r.tags, POD_IDENTITY_TAG) || "-",
              ]),
          ),
        );
        setExit(0);
      } finally {
        await account.stop();
      }
    });
}
