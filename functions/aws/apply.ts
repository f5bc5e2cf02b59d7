import {
  CreateAddonCommand,
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  type EKSClient,
  InvalidParameterException,
  ListPodIdentityAssociationsCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  TagResourceCommand,
  UpdatePodIdentityAssociationCommand,
} from "@aws-sdk/client-eks";
import pLimit from "p-limit";
import { errorMessage, RefusedError, TransientError } from "../core/errors.js";
import type { AssociationInfo, DesiredAssociation } from "../core/model.js";
import type { PlannedChange } from "../core/plan.js";
import { isManaged } from "../core/plan.js";
import { MANAGED_BY_VALUE, TAG } from "../core/tags.js";
import { listAddonNames, toAssociationInfo } from "./inventory.js";
import type { RoleCheck } from "./role-check.js";

export const AGENT_ADDON = "eks-pod-identity-agent";

/** Outcome of one planned change. */
export interface ChangeOutcome {
  change: PlannedChange;
  status: "done" | "converged" | "failed";
  associationId?: string;
  error?: string;
}

/** Settings of apply; `sleep` is injectable so tests never wait through real back-off. */
export interface ApplyOptions {
  concurrency: number;
  /** attempts for a role EKS cannot see yet (IAM eventual consistency) */
  roleVisibilityAttempts: number;
  backoffBaseMs: number;
  sleep: (ms: number) => Promise<void>;
  /** a limiter shared by several calls (a run applies cluster by cluster under one write budget) */
  limit?: ReturnType<typeof pLimit>;
  /**
   * Decides whether EKS's refusal of a role is IAM propagation (retried) or permanent (fails at
   * once). Without it nothing is retried: a refusal fails with its reason and the next run retries.
   */
  roleCheck?: RoleCheck;
}

export const DEFAULT_APPLY_OPTIONS: ApplyOptions = {
  concurrency: 8,
  roleVisibilityAttempts: 6,
  backoffBaseMs: 1000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

function tagsFor(d: DesiredAssociation): Record<string, string> {
  return { [TAG.managedBy]: MANAGED_BY_VALUE, [TAG.source]: d.source };
}

/** The role a call passes to EKS, for the propagation check. */
export interface RoleUse {
  roleArn: string;
  disableSessionTags: boolean;
}

async function firstPermanent(check: RoleCheck | undefined, roles: RoleUse[]): Promise<string | undefined> {
  if (!check) return "no IAM check is configured to tell IAM propagation from a permanent refusal";
  for (const r of roles) {
    const verdict = await check(r.roleArn, { disableSessionTags: r.disableSessionTags });
    if (verdict.kind === "permanent") return verdict.reason;
  }
  return undefined;
}

/**
 * Runs an EKS call that passes a role (or several, for UpdateAddon). An `InvalidParameterException` (the one type EKS uses for
 * every role problem) is retried with exponential back-off only while `roleCheck` says the role
 * is in IAM, at that exact ARN, with a trust EKS accepts: then EKS is behind IAM (eventual
 * consistency). A permanent refusal (no such role, wrong ARN or account, a trust EKS refuses)
 * fails at once as a {@link RefusedError} with its reason; other errors pass through unchanged.
 */
export async function withRoleVisibilityRetry<T>(
  options: ApplyOptions,
  role: RoleUse | RoleUse[],
  call: () => Promise<T>,
): Promise<T> {
  const roles = Array.isArray(role) ? role : [role];
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof InvalidParameterException)) throw error;
      const permanent = await firstPermanent(options.roleCheck, roles);
      if (permanent) throw new RefusedError(`EKS refused the request: ${permanent}`, { cause: error });
      if (attempt >= options.roleVisibilityAttempts) {
        throw new TransientError(`role still not accepted by EKS after ${attempt} attempts`, {
          cause: error,
        });
      }
      await options.sleep(options.backoffBaseMs * 2 ** (attempt - 1));
    }
  }
}

async function findExisting(eks: EKSClient, d: DesiredAssociation): Promise<AssociationInfo | undefined> {
  const page = await eks.send(
    new ListPodIdentityAssociationsCommand({
      clusterName: d.clusterName,
      namespace: d.namespace,
      serviceAccount: d.serviceAccount,
    }),
  );
  const summary = page.associations?.[0];
  if (!summary?.associationId) return undefined;
  const { association: a } = await eks.send(
    new DescribePodIdentityAssociationCommand({
      clusterName: d.clusterName,
      associationId: summary.associationId,
    }),
  );
  return a ? toAssociationInfo(d.clusterName, a) : undefined;
}

/** What UpdatePodIdentityAssociation can change; the model: "You must change at least one of these". */
export function updatableDiffers(d: DesiredAssociation, a: AssociationInfo): boolean {
  return (
    a.roleArn !== d.roleArn ||
    a.disableSessionTags !== d.disableSessionTags ||
    (a.targetRoleArn ?? "") !== (d.targetRoleArn ?? "")
  );
}

/** Updates what differs: the association through Update, the ownership tags through TagResource. */
async function update(
  eks: EKSClient,
  d: DesiredAssociation,
  a: AssociationInfo,
  options: ApplyOptions,
): Promise<string> {
  if (updatableDiffers(d, a)) {
    await withRoleVisibilityRetry(options, d, () =>
      eks.send(
        new UpdatePodIdentityAssociationCommand({
          clusterName: d.clusterName,
          associationId: a.associationId,
          roleArn: d.roleArn,
          disableSessionTags: d.disableSessionTags,
          // an empty string removes a target role
          targetRoleArn: d.targetRoleArn ?? "",
        }),
      ),
    );
  }
  const wanted = tagsFor(d);
  if (Object.entries(wanted).some(([k, v]) => a.tags[k] !== v)) {
    if (!a.associationArn) throw new RefusedError(`association ${a.associationId} has no ARN to tag`);
    await eks.send(new TagResourceCommand({ resourceArn: a.associationArn, tags: wanted }));
  }
  return a.associationId;
}

async function create(
  eks: EKSClient,
  d: DesiredAssociation,
  options: ApplyOptions,
): Promise<Omit<ChangeOutcome, "change">> {
  try {
    const out = await withRoleVisibilityRetry(options, d, () =>
      eks.send(
        new CreatePodIdentityAssociationCommand({
          clusterName: d.clusterName,
          namespace: d.namespace,
          serviceAccount: d.serviceAccount,
          roleArn: d.roleArn,
          disableSessionTags: d.disableSessionTags,
          ...(d.targetRoleArn ? { targetRoleArn: d.targetRoleArn } : {}),
          tags: tagsFor(d),
        }),
      ),
    );
    return { status: "done", associationId: out.association?.associationId ?? "" };
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    // 409: someone (a concurrent run, a person) created it meanwhile: converge
    const existing = await findExisting(eks, d);
    if (!existing) throw error;
    if (!isManaged(existing)) {
      return {
        status: "failed",
        error: `an association not managed by pod-identity-autopilot exists (${existing.associationId})`,
      };
    }
    await update(eks, d, existing, options);
    return { status: "converged", associationId: existing.associationId };
  }
}

async function runChange(
  eks: EKSClient,
  change: PlannedChange,
  options: ApplyOptions,
): Promise<ChangeOutcome> {
  try {
    switch (change.kind) {
      case "create":
        return { change, ...(await create(eks, change.desired, options)) };
      case "update":
        try {
          return {
            change,
            status: "done",
            associationId: await update(eks, change.desired, change.actual, options),
          };
        } catch (error) {
          // deleted meanwhile: what the tags ask for is a new association
          if (!(error instanceof ResourceNotFoundException)) throw error;
          return { change, ...(await create(eks, change.desired, options)) };
        }
      case "delete":
        try {
          await eks.send(
            new DeletePodIdentityAssociationCommand({
              clusterName: change.actual.clusterName,
              associationId: change.actual.associationId,
            }),
          );
          return { change, status: "done", associationId: change.actual.associationId };
        } catch (error) {
          if (error instanceof ResourceNotFoundException) {
            return { change, status: "converged", associationId: change.actual.associationId };
          }
          throw error;
        }
      default: {
        const never: never = change;
        return never;
      }
    }
  } catch (error) {
    return { change, status: "failed", error: errorMessage(error) };
  }
}

/**
 * Installs eks-pod-identity-agent when a cluster lacks it; true when this call installed it.
 * `tags` mark the add-on as the caller's (a migration run tags it so its rollback can tell).
 */
export async function ensureAgent(
  eks: EKSClient,
  clusterName: string,
  tags?: Record<string, string>,
): Promise<boolean> {
  const addons = await listAddonNames(eks, clusterName);
  if (addons.includes(AGENT_ADDON)) return false;
  try {
    await eks.send(
      new CreateAddonCommand({
        clusterName,
        addonName: AGENT_ADDON,
        resolveConflicts: "OVERWRITE",
        ...(tags ? { tags } : {}),
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ResourceInUseException) return false;
    throw error;
  }
}

/**
 * Applies planned changes with bounded concurrency. Idempotent: 409 on create converges, 404 on
 * delete is done. A failure is recorded and the other changes go on. Throttling and 5xx are
 * retried by the SDK's retry strategy; a role EKS cannot see yet is retried with back-off here.
 */
export async function applyChanges(
  eks: EKSClient,
  changes: PlannedChange[],
  options: ApplyOptions = DEFAULT_APPLY_OPTIONS,
): Promise<ChangeOutcome[]> {
  const limit = options.limit ?? pLimit(options.concurrency);
  return await Promise.all(changes.map((change) => limit(() => runChange(eks, change, options))));
}
