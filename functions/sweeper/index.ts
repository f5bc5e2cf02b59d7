import { z } from "zod";
import { listClusterNames, readRoles } from "../aws/inventory.js";
import { compactSummary, createRuntime, type Runtime, reconcileWithSettings } from "../aws/runtime.js";
import { CATALOG_ROLE_PATH } from "../core/catalog.js";
import type { RoleInfo } from "../core/model.js";

const roleSchema = z.object({
  name: z.string(),
  arn: z.string(),
  path: z.string(),
  tags: z.record(z.string(), z.string()),
  trustPolicy: z.string(),
});

/**
 * Inputs: the schedule's event or `{}` (sweep everything in this invocation);
 * `{action: "list-clusters"}`; `{action: "plan-sweep"}` (split the sweep into units of work for a
 * Step Functions Map, reading the roles once); `{clusters: [...], roles?}` (one unit of work).
 */
const listInput = z.object({ action: z.literal("list-clusters") }).strict();
const planInput = z
  .object({ action: z.literal("plan-sweep"), clustersPerUnit: z.number().int().min(1).max(500).optional() })
  .strict();
const unitInput = z
  .object({
    clusters: z.array(z.string().min(1).max(100)).min(1).max(500),
    roles: z.array(roleSchema).nullish(),
    /** this unit's share of the breaker's floor, so the whole fanned-out sweep keeps one budget */
    breakerFloor: z.number().int().min(0).optional(),
    dryRun: z.boolean().optional(),
  })
  .strict();
const fullInput = z.union([
  z.object({ source: z.literal("aws.events"), "detail-type": z.literal("Scheduled Event") }).loose(),
  z.object({ dryRun: z.boolean().optional() }).strict(),
]);
const sweepInput = z.union([listInput, planInput, unitInput, fullInput]);

/** Roles a unit needs: templates and catalog roles. Null when too big for a state payload. */
export function rolesForUnits(roles: RoleInfo[], maxBytes = 150_000): RoleInfo[] | null {
  const relevant = roles.filter(
    (r) => r.path === CATALOG_ROLE_PATH || Object.keys(r.tags).some((k) => k.startsWith("pod-identity/")),
  );
  return Buffer.byteLength(JSON.stringify(relevant)) <= maxBytes ? relevant : null;
}

/**
 * Splits cluster names into units of at most `size` clusters. Each unit gets an equal share of the
 * breaker's floor: the fraction already scales with each unit's managed associations, so the
 * fanned-out sweep deletes no more than one run over the whole fleet would.
 */
export function unitsOf(
  clusters: string[],
  size: number,
  breakerFloor = 5,
): { clusters: string[]; breakerFloor: number }[] {
  const count = Math.max(1, Math.ceil(clusters.length / size));
  const share = Math.ceil(breakerFloor / count);
  const units: { clusters: string[]; breakerFloor: number }[] = [];
  for (let i = 0; i < clusters.length; i += size)
    units.push({ clusters: clusters.slice(i, i + size), breakerFloor: share });
  return units;
}

let runtime: Runtime | undefined;

/** The scheduled full reconcile; its unit of work is a list of clusters. */
export const handler = async (event: unknown) => {
  runtime ??= createRuntime();
  const rt = runtime;
  const parsed = sweepInput.safeParse(event);
  if (!parsed.success) {
    const reason = `unrecognised sweeper input: ${z.prettifyError(parsed.error).slice(0, 300)}`;
    rt.logger.warn("event rejected", { reason });
    return { status: "rejected" as const, reason };
  }
  if (listInput.safeParse(event).success) {
    return { clusters: await listClusterNames(rt.deps.clients.eks) };
  }
  const plan = planInput.safeParse(event);
  if (plan.success) {
    const [clusters, roles] = await Promise.all([
      listClusterNames(rt.deps.clients.eks),
      readRoles(rt.deps.clients.iam),
    ]);
    return {
      units: unitsOf(clusters.sort(), plan.data.clustersPerUnit ?? 10, rt.env.BREAKER_FLOOR),
      roles: rolesForUnits(roles),
    };
  }
  const unit = unitInput.safeParse(event);
  const summary = await reconcileWithSettings(
    rt,
    unit.success ? { kind: "clusters", names: unit.data.clusters } : { kind: "all" },
    {
      dryRun: (event as { dryRun?: unknown } | null)?.dryRun === true,
      ...(unit.success && unit.data.breakerFloor !== undefined
        ? { breakerFloor: unit.data.breakerFloor }
        : {}),
      ...(unit.success && unit.data.roles ? { roles: unit.data.roles } : {}),
    },
  );
  return { status: "reconciled" as const, summary: compactSummary(summary) };
};
