import aslValidator from "asl-validator";
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { catalogBoundaryPolicy } from "../../functions/core/catalog-boundary.js";
import { stateMachinesOf } from "../../infra/definitions.js";
import { functionNameOf, synthTemplates } from "../support/synth.js";

let regional: Template;
let forwarder: Template;
let raw: Record<string, any>;

beforeAll(() => {
  // synthesis runs cdk-nag (AwsSolutions and Serverless): any unacknowledged finding fails it
  const templates = synthTemplates({ regions: "us-east-1,eu-west-1", alarmEmail: "platform@example.com" });
  raw = templates["PodIdentityAutopilot-us-east-1"]!;
  regional = Template.fromJSON(raw);
  forwarder = Template.fromJSON(templates.PodIdentityAutopilotIamForwarder!);
  expect(Object.keys(templates).sort()).toEqual([
    "PodIdentityAutopilot-eu-west-1",
    "PodIdentityAutopilot-us-east-1",
    "PodIdentityAutopilotIamForwarder",
  ]);
}, 120_000);

type Statement = {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
  Effect: string;
};

/** Role policies and the managed policies CDK moves statements into when a role's inline policy grows too large. */
const isPolicy = (type: string) => type === "AWS::IAM::Policy" || type === "AWS::IAM::ManagedPolicy";

function policiesOf(rolePrefix: string): Statement[] {
  return Object.entries(raw.Resources as Record<string, any>)
    .filter(([, r]) => isPolicy(r.Type) && JSON.stringify(r.Properties.Roles).includes(rolePrefix))
    .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Statement[]);
}

/** Every Allow statement (what is granted; the Deny statements are asserted in security.test.ts). */
function allStatements(): Statement[] {
  return Object.values(raw.Resources as Record<string, any>)
    .filter((r) => isPolicy(r.Type))
    .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[])
    .filter((s) => s.Effect !== "Deny");
}

function allStatementsWithRole(): { policyId: string; statement: Statement }[] {
  return Object.entries(raw.Resources as Record<string, any>)
    .filter(([, r]) => isPolicy(r.Type))
    .flatMap(([policyId, r]) =>
      (r.Properties.PolicyDocument.Statement as Statement[])
        .filter((statement) => statement.Effect !== "Deny")
        .map((statement) => ({ policyId, statement })),
    );
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe("EventBridge rules", () => {
  it("match the EKS CloudTrail events of DESIGN.md and exclude failed calls", () => {
    regional.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: {
        source: ["aws.eks"],
        "detail-type": ["AWS API Call via CloudTrail"],
        detail: {
          eventSource: ["eks.amazonaws.com"],
          eventName: ["CreateCluster", "TagResource", "UntagResource", "DeleteCluster"],
          errorCode: [{ exists: false }],
        },
      },
      Targets: [Match.objectLike({ DeadLetterConfig: Match.anyValue(), RetryPolicy: Match.anyValue() })],
    });
  });

  it("match forwarded IAM CloudTrail events on the product bus", () => {
    regional.hasResourceProperties("AWS::Events::Rule", {
      EventBusName: Match.anyValue(),
      EventPattern: {
        source: ["aws.iam"],
        detail: {
          eventSource: ["iam.amazonaws.com"],
          eventName: ["CreateRole", "DeleteRole", "UpdateAssumeRolePolicy", "TagRole", "UntagRole"],
          errorCode: [{ exists: false }],
        },
      },
    });
  });

  it("schedule the sweep: the sweeper rebuilds the index and enqueues every cluster", () => {
    regional.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(30 minutes)",
      Targets: [
        Match.objectLike({ Arn: { "Fn::GetAtt": [Match.stringLikeRegexp("^SweeperFunction"), "Arn"] } }),
      ],
    });
  });

  it("forward IAM events from us-east-1 to every region's bus", () => {
    forwarder.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: Match.objectLike({
        source: ["aws.iam"],
        detail: Match.objectLike({ errorCode: [{ exists: false }] }),
      }),
      Targets: Match.arrayWith([
        Match.objectLike({
          Arn: Match.objectLike({
            "Fn::Join": Match.arrayWith([Match.arrayWith([Match.stringLikeRegexp("eu-west-1")])]),
          }),
        }),
      ]),
    });
  });
});

describe("functions", () => {
  it("are Node.js 22 on arm64 with JSON logs, active tracing and a dead-letter queue", () => {
    const fns = regional.findResources("AWS::Lambda::Function", { Properties: { Runtime: "nodejs22.x" } });
    expect(Object.keys(fns).map(functionNameOf).sort()).toEqual([
      "cluster-event",
      "iam-event",
      "migration",
      "reconcile-worker",
      "sweeper",
    ]);
    for (const fn of Object.values(fns)) {
      expect(fn.Properties).toMatchObject({
        Architectures: ["arm64"],
        TracingConfig: { Mode: "Active" },
        LoggingConfig: { LogFormat: "JSON" },
        DeadLetterConfig: { TargetArn: expect.anything() },
      });
    }
  });

  it("never overlap sweeps (reserved concurrency 1)", () => {
    const [sweeper] = Object.entries(regional.findResources("AWS::Lambda::Function")).filter(([id]) =>
      id.startsWith("SweeperFunction"),
    );
    expect(sweeper![1].Properties.ReservedConcurrentExecutions).toBe(1);
  });

  it("send failed asynchronous invocations to the dead-letter queue", () => {
    regional.resourceCountIs("AWS::Lambda::EventInvokeConfig", 5);
    regional.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });
});

describe("the work queue (issue 10)", () => {
  it("is SQS FIFO with a KMS key and a FIFO DLQ after 3 receives", () => {
    const queues = Object.values(
      regional.findResources("AWS::SQS::Queue", { Properties: { FifoQueue: true } }),
    );
    expect(queues).toHaveLength(2);
    for (const q of queues) expect(q.Properties.KmsMasterKeyId).toBeDefined();
    regional.hasResourceProperties("AWS::SQS::Queue", {
      FifoQueue: true,
      RedrivePolicy: { maxReceiveCount: 3, deadLetterTargetArn: Match.anyValue() },
    });
  });

  it("feeds the worker through an event source mapping that reports partial batch failures", () => {
    regional.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FunctionName: { Ref: Match.stringLikeRegexp("^ReconcileWorkerFunction") },
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      BatchSize: 10,
    });
  });

  it("keeps the template index and the deletion budget in encrypted tables with PITR", () => {
    const tables = regional.findResources("AWS::DynamoDB::GlobalTable");
    const ids = Object.keys(tables);
    expect(ids.some((id) => id.startsWith("WorkQueueTemplateIndex"))).toBe(true);
    expect(ids.some((id) => id.startsWith("WorkQueueDeletionBudget"))).toBe(true);
    regional.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
    });
  });

  it("paces every function at the configured share, IAM's global rates divided among the two regions", () => {
    const fns = regional.findResources("AWS::Lambda::Function");
    const paced = Object.entries(fns).filter(([id]) =>
      /^(ClusterEvent|IamEvent|Sweeper|ReconcileWorker|Migration)Function/.test(id),
    );
    expect(paced).toHaveLength(5);
    for (const [, fn] of paced)
      expect(fn.Properties.Environment.Variables).toMatchObject({
        PACING_SHARE: "0.5",
        PACING_RATES: "eks-read=20,eks-write=5,iam-read=10,iam-write=10,cloudtrail-lookup=2",
      });
  });

  it("tells every reconciler function where the queue and the tables are", () => {
    const fns = regional.findResources("AWS::Lambda::Function");
    for (const [id, fn] of Object.entries(fns)) {
      if (!/^(ClusterEvent|IamEvent|Sweeper|ReconcileWorker)Function/.test(id)) continue;
      expect(Object.keys(fn.Properties.Environment.Variables)).toEqual(
        expect.arrayContaining(["WORK_QUEUE_URL", "TEMPLATE_INDEX_TABLE", "DELETION_BUDGET_TABLE"]),
      );
    }
  });
});

describe("least privilege", () => {
  it("grants no iam:*, eks:* or * action anywhere", () => {
    for (const s of allStatements()) {
      for (const a of actions(s)) expect(["*", "iam:*", "eks:*", "sts:*"]).not.toContain(a);
    }
  });

  it("passes roles only to pods.eks.amazonaws.com", () => {
    const passRole = allStatements().filter((s) => actions(s).includes("iam:PassRole"));
    expect(passRole.length).toBeGreaterThan(0);
    for (const s of passRole)
      expect(s.Condition).toEqual({ StringEquals: { "iam:PassedToService": "pods.eks.amazonaws.com" } });
  });

  it("writes catalog roles only by name and only with the catalog permissions boundary", () => {
    const writes = allStatements().filter((s) =>
      actions(s).some((a) =>
        [
          "iam:CreateRole",
          "iam:PutRolePolicy",
          "iam:AttachRolePolicy",
          "iam:DetachRolePolicy",
          "iam:DeleteRolePolicy",
        ].includes(a),
      ),
    );
    expect(writes.length).toBeGreaterThan(0);
    for (const s of writes) {
      expect(JSON.stringify(s.Resource)).toMatch(/:role\/pod-identity\/pod-identity-[a-z0-9-]+"/);
      expect(JSON.stringify(s.Resource)).not.toMatch(/\*/);
      expect(
        JSON.stringify(
          (s.Condition?.StringEquals as Record<string, unknown> | undefined)?.["iam:PermissionsBoundary"],
        ),
      ).toMatch(/:policy\/pod-identity\/pod-identity-catalog-boundary"/);
    }
    const attach = writes.filter((s) => actions(s).includes("iam:AttachRolePolicy"));
    for (const s of attach) expect(s.Condition).toHaveProperty("ArnEquals.iam:PolicyARN");
  });

  it("creates the catalog roles' permissions boundary once per account, in the us-east-1 stack", () => {
    forwarder.hasResourceProperties("AWS::IAM::ManagedPolicy", {
      ManagedPolicyName: "pod-identity-catalog-boundary",
      Path: "/pod-identity/",
      PolicyDocument: catalogBoundaryPolicy(),
    });
    expect(
      Object.keys(
        regional.findResources("AWS::IAM::ManagedPolicy", {
          Properties: { ManagedPolicyName: "pod-identity-catalog-boundary" },
        }),
      ),
    ).toEqual([]);
  });

  it("lets only the migration function update trust policies of any role; the reconcilers only of their own catalog roles; no function deletes IAM entities", () => {
    const trustWriters = allStatementsWithRole().filter(({ statement }) =>
      actions(statement).includes("iam:UpdateAssumeRolePolicy"),
    );
    const others = trustWriters.filter(({ policyId }) => !policyId.startsWith("MigrationRole"));
    expect(trustWriters.some(({ policyId }) => policyId.startsWith("MigrationRole"))).toBe(true);
    for (const { statement } of others) {
      expect(JSON.stringify(statement.Resource)).toMatch(/:role\/pod-identity\/pod-identity-[a-z0-9-]+"/);
      expect(JSON.stringify(statement.Resource)).not.toMatch(/\*/);
      expect(statement.Condition).toEqual({
        StringEquals: { "iam:ResourceTag/pod-identity/managed-by": "pod-identity-autopilot" },
      });
    }
    const iamWrites = allStatements()
      .flatMap(actions)
      .filter((a) => a.startsWith("iam:") && !/^iam:(Get|List|PassRole)/.test(a));
    expect([...new Set(iamWrites)].sort()).toEqual([
      "iam:AttachRolePolicy",
      "iam:CreateRole",
      "iam:DeleteRolePolicy",
      "iam:DetachRolePolicy",
      "iam:PutRolePolicy",
      "iam:TagRole",
      "iam:UpdateAssumeRolePolicy",
    ]);
  });

  it("scopes EKS writes to this account and region's clusters, associations and add-ons", () => {
    const eksWrites = allStatements().filter((s) =>
      actions(s).some((a) => /^eks:(Create|Update|Delete|Tag)/.test(a)),
    );
    for (const s of eksWrites) {
      const resources = JSON.stringify(s.Resource);
      expect(resources).toMatch(/eks:us-east-1:/);
      expect(resources).not.toMatch(/"\*"/);
    }
  });

  it("gives each function its own role", () => {
    const roles = Object.values(regional.findResources("AWS::Lambda::Function")).map((f) =>
      JSON.stringify(f.Properties.Role),
    );
    expect(new Set(roles).size).toBe(5);
    expect(policiesOf("ClusterEventRole").flatMap(actions)).toContain("states:StartExecution");
  });
});

describe("state machines", () => {
  it("log ALL and trace, and their definitions pass asl-validator", () => {
    const machines = regional.findResources("AWS::StepFunctions::StateMachine");
    // wait loop, migration run, finalize, rollback (the sweep is a queue now, not a fan-out)
    expect(Object.keys(machines)).toHaveLength(4);
    for (const m of Object.values(machines)) {
      expect(m.Properties.LoggingConfiguration.Level).toBe("ALL");
      expect(m.Properties.LoggingConfiguration.Destinations).toHaveLength(1);
      expect(m.Properties.TracingConfiguration.Enabled).toBe(true);
    }
    for (const definition of Object.values(stateMachinesOf(raw as never, functionNameOf))) {
      const result = aslValidator(structuredClone(definition));
      expect(result.errorsText()).toBe("");
      expect(result.isValid).toBe(true);
    }
  });
});

describe("observability", () => {
  it("alarms on sweeper errors, held deletions, critical findings and dead letters, notifying the topic", () => {
    const alarms = regional.findResources("AWS::CloudWatch::Alarm");
    const names = Object.values(alarms).map((a) => a.Properties.MetricName);
    expect(names.sort()).toEqual([
      "ApproximateNumberOfMessagesVisible",
      "ApproximateNumberOfMessagesVisible",
      "DeletionsHeld",
      "Errors",
      // every state machine: the cluster wait loop, migration run, finalize and rollback
      "ExecutionsFailed",
      "ExecutionsFailed",
      "ExecutionsFailed",
      "ExecutionsFailed",
      // migration run, finalize and rollback timed out (no report, no rollback), and the wait loop
      "ExecutionsTimedOut",
      "ExecutionsTimedOut",
      "ExecutionsTimedOut",
      "ExecutionsTimedOut",
      "FindingsCritical",
      // a rollback that could not undo everything
      "MigrationsRollbackIncomplete",
    ]);
    for (const a of Object.values(alarms)) expect(a.Properties.AlarmActions).toHaveLength(1);
    regional.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "platform@example.com",
    });
  });

  it("has a dashboard with the product metrics", () => {
    const [dashboard] = Object.values(regional.findResources("AWS::CloudWatch::Dashboard"));
    const body = JSON.stringify(dashboard!.Properties.DashboardBody);
    for (const metric of [
      "AssociationsCreated",
      "DriftFound",
      "FindingsCritical",
      "DeletionsHeld",
      "MigrationsRolledBack",
      "Throttles",
    ]) {
      expect(body).toContain(metric);
    }
  });
});
