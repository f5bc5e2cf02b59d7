import {
  DescribePodIdentityAssociationCommand,
  type EKSClient,
  ResourceNotFoundException,
} from "@aws-sdk/client-eks";
import pLimit from "p-limit";
import type { ApplyOutcome, ClusterApi } from "../app/ports.js";
import type { PlannedChange } from "../core/plan.js";
import { type ApplyOptions, applyChanges, DEFAULT_APPLY_OPTIONS, ensureAgent } from "./apply.js";
import { describeCluster, listClusterNames, readAssociations, toAssociationInfo } from "./inventory.js";

/** The worker's view of EKS over the SDK (reads, the re-check describe, idempotent writes). */
export class EksClusterApi implements ClusterApi {
  private readonly readLimit: ReturnType<typeof pLimit>;
  constructor(
    private readonly eks: EKSClient,
    private readonly options: Partial<ApplyOptions> & { readConcurrency?: number } = {},
  ) {
    this.readLimit = pLimit(options.readConcurrency ?? 8);
  }

  listClusters(): Promise<string[]> {
    return listClusterNames(this.eks);
  }

  describeCluster(name: string) {
    return describeCluster(this.eks, name);
  }

  readAssociations(clusterName: string) {
    return readAssociations(this.eks, clusterName, this.readLimit);
  }

  async describeAssociation(clusterName: string, associationId: string) {
    try {
      const { association } = await this.eks.send(
        new DescribePodIdentityAssociationCommand({ clusterName, associationId }),
      );
      return association ? toAssociationInfo(clusterName, association) : undefined;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }

  async apply(changes: PlannedChange[]): Promise<ApplyOutcome[]> {
    if (changes.length === 0) return [];
    const { readConcurrency: _r, ...apply } = this.options;
    return await applyChanges(this.eks, changes, { ...DEFAULT_APPLY_OPTIONS, ...apply });
  }

  ensureAgent(clusterName: string): Promise<boolean> {
    return ensureAgent(this.eks, clusterName);
  }
}
