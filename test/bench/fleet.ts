import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import {
  CreateClusterCommand,
  DeletePodIdentityAssociationCommand,
  UpdatePodIdentityAssociationCommand,
} from "@aws-sdk/client-eks";
import { CreateRoleCommand, type Role } from "@aws-sdk/client-iam";
import pLimit from "p-limit";
import type { AwsClients } from "../../functions/aws/clients.js";
import { readAssociations } from "../../functions/aws/inventory.js";
import { DEFAULT_CLUSTER_TAG_PREFIX, DEFAULT_TEMPLATE_PATH } from "../../functions/core/admission.js";
import { createClusterServiceRole, podIdentityTrust } from "../../local/sample-fleet.js";

export const ACCOUNT = "123456789012";

/** The local account in its own process, so the benchmark measures only the client side. */
export async function startAccountProcess(): Promise<{
  endpoint: string;
  child: ChildProcess;
  control: (method: string, path: string, body?: unknown) => Promise<any>;
}> {
  const child = spawn(process.execPath, ["bin/podid.mjs", "local-aws"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const endpoint = await new Promise<string>((resolve, reject) => {
    lines.on("line", (line) => {
      const m = /^AWS_ENDPOINT_URL=(.+)$/.exec(line);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`local account exited with ${code}`)));
  });
  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${endpoint}/_local/${path}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return await res.json();
  };
  return { endpoint, child, control };
}

/** Cluster names of a fleet. */
export function clusterNames(n: number, prefix = "c"): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);
}

/**
 * Seeds a fleet: `clusters` clusters and templates selecting all of them with `perCluster`
 * bindings in total (ten per role); the associations themselves are created by a sweep.
 */
export async function seedFleet(
  clients: AwsClients,
  clusters: number,
  perCluster: number,
  prefix = "c",
): Promise<{ roles: string[]; created: SeededRole[]; clusters: Record<string, unknown>[] }> {
  await createClusterServiceRole(clients.iam);
  const limit = pLimit(16);
  const made = await Promise.all(
    clusterNames(clusters, prefix).map((name) =>
      limit(() =>
        clients.eks.send(
          new CreateClusterCommand({
            name,
            version: "1.31",
            roleArn: `arn:aws:iam::${ACCOUNT}:role/eks-cluster-role`,
            resourcesVpcConfig: { subnetIds: ["subnet-1"] },
            // tag: selectors only read tags under the protected prefix (cluster admission)
            tags: { "pod-identity/install-agent": "false", [`${DEFAULT_CLUSTER_TAG_PREFIX}fleet`]: prefix },
          }),
        ),
      ),
    ),
  );
  const roles: string[] = [];
  const created: SeededRole[] = [];
  for (let r = 0; r * 10 < perCluster; r++) {
    const name = `${prefix}-app-${String(r).padStart(3, "0")}`;
    const bind = Array.from({ length: Math.min(10, perCluster - r * 10) }, (_, i) => `ns-${r}/sa-${i}`).join(
      " ",
    );
    const trust = podIdentityTrust();
    const tags = {
      "pod-identity/bind": bind,
      "pod-identity/clusters": `tag:${DEFAULT_CLUSTER_TAG_PREFIX}fleet=${prefix}`,
    };
    const out = await clients.iam.send(
      new CreateRoleCommand({
        RoleName: name,
        // templates live under the stack's template path (template admission)
        Path: DEFAULT_TEMPLATE_PATH,
        AssumeRolePolicyDocument: trust,
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    if (out.Role) created.push({ role: out.Role, trust, tags });
    roles.push(name);
  }
  return {
    roles,
    created,
    clusters: made.map((m) => (m.cluster ?? {}) as unknown as Record<string, unknown>),
  };
}

/** A role the seeding created: the CreateRole response, with the request's trust and tags. */
export interface SeededRole {
  role: Role;
  trust: string;
  tags: Record<string, string>;
}

/** Makes `fraction` of the associations drift: half repointed to another role, half deleted. */
export async function injectDrift(
  clients: AwsClients,
  clusters: string[],
  fraction: number,
  otherRoleArn: string,
): Promise<number> {
  const limit = pLimit(16);
  let changed = 0;
  for (const cluster of clusters) {
    const all = await readAssociations(clients.eks, cluster);
    const count = Math.round(all.length * fraction);
    // an association that already has the other role would not drift when "repointed" to it:
    // counting it made `drift repair` report converged:false depending on list order
    const associations = all.filter((a) => a.roleArn !== otherRoleArn);
    await Promise.all(
      associations.slice(0, count).map((a, i) =>
        limit(async () => {
          if (i % 2 === 0) {
            await clients.eks.send(
              new UpdatePodIdentityAssociationCommand({
                clusterName: cluster,
                associationId: a.associationId,
                roleArn: otherRoleArn,
              }),
            );
          } else {
            await clients.eks.send(
              new DeletePodIdentityAssociationCommand({
                clusterName: cluster,
                associationId: a.associationId,
              }),
            );
          }
          changed++;
        }),
      ),
    );
  }
  return changed;
}
