import { UntagRoleCommand } from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { sampleEvent, useBuiltHandlers } from "../support/bundles.js";
import { alarmDimensions, captureEmf, emfMetrics } from "../support/emf.js";
import { createCluster, createRole } from "../support/fixtures.js";
import { ACCOUNT_ID, awsClientsFor, useLocalAccount } from "../support/local-account.js";
import { synthTemplates } from "../support/synth.js";
import { drainWorkQueue } from "../support/work-queue.js";

/**
 * The alarms on product metrics fire from what the deployed handlers print, not from what a
 * recorder can print: the built bundles run on the local account with metrics on, and their EMF
 * output (stdout, as Lambda ships it to CloudWatch) must carry each alarm's namespace, metric and
 * dimensions with a value that breaches it.
 */

const ctx = useLocalAccount();
const handlers = useBuiltHandlers(ctx, ["iam-event", "sweeper"], {
  AWS_REGION: "us-east-1",
  POWERTOOLS_LOG_LEVEL: "ERROR",
  POWERTOOLS_METRICS_DISABLED: "false",
  // one deletion an hour: a second one is held (the DeletionsHeld alarm)
  DELETION_BUDGET_FLOOR: "1",
  DELETION_BUDGET_FRACTION: "0",
});
const sample = sampleEvent;

const LEAKY_TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { Service: "pods.eks.amazonaws.com" },
      Action: ["sts:AssumeRole", "sts:TagSession"],
    },
    {
      // IRSA without a sub condition: every service account of the cluster could assume it
      Effect: "Allow",
      Principal: {
        Federated: `arn:aws:iam::${ACCOUNT_ID}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/LEAKY`,
      },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: { StringEquals: { "oidc.eks.us-east-1.amazonaws.com/id/LEAKY:aud": "sts.amazonaws.com" } },
    },
  ],
});

describe("alarms fire from the deployed handlers' own EMF", () => {
  it("iam-event, the sweeper and the worker print every reconcile alarm's metric at a breaching value", async () => {
    // Prepare: a cluster, a template of three service accounts, a template whose trust is critical
    const clients = awsClientsFor(ctx.account.endpoint);
    await createCluster(clients, "prod");
    const bind = { "pod-identity/bind": "web/a web/b web/c", "pod-identity/clusters": "all" };
    await createRole(clients.iam, "api", { tags: bind });
    await createRole(clients.iam, "leaky", {
      tags: { "pod-identity/bind": "ops/x", "pod-identity/clusters": "all" },
      trust: LEAKY_TRUST,
    });
    const tagLeaky = sample("iam-tag-role.json");
    tagLeaky.detail.requestParameters.roleName = "leaky";

    // Act: the role change, a sweep that onboards, the untag, a sweep that must delete three
    const docs = await captureEmf(async () => {
      await handlers["iam-event"]!(tagLeaky);
      await handlers.sweeper!(sample("scheduled-sweep.json"));
      await drainWorkQueue(ctx.account);
      await clients.iam.send(new UntagRoleCommand({ RoleName: "api", TagKeys: ["pod-identity/bind"] }));
      await handlers.sweeper!(sample("scheduled-sweep.json"));
      await drainWorkQueue(ctx.account);
    });

    // Assess: each product alarm of the reconcile functions reads a metric printed above its threshold
    const alarms = Object.values(synthTemplates()).flatMap((t) =>
      Object.values(t.Resources).filter(
        (r) => r.Type === "AWS::CloudWatch::Alarm" && r.Properties.Namespace === "PodIdentityAutopilot",
      ),
    );
    const reconcileAlarms = alarms.filter((a) => a.Properties.MetricName !== "MigrationsRollbackIncomplete");
    expect(reconcileAlarms.map((a) => a.Properties.MetricName).sort()).toEqual([
      "DeletionsHeld",
      "FindingsCritical",
    ]);
    const printed = emfMetrics(docs);
    for (const alarm of reconcileAlarms) {
      const p = alarm.Properties;
      const dims = alarmDimensions(p.Dimensions);
      const values = printed
        .filter((m) => m.namespace === p.Namespace && m.name === p.MetricName && m.dims === dims)
        .flatMap((m) => m.values);
      expect(Math.max(0, ...values), p.MetricName).toBeGreaterThanOrEqual(p.Threshold);
    }
  });
});
