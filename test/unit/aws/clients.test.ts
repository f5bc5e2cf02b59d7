import { ListClustersCommand } from "@aws-sdk/client-eks";
import { ListRolesCommand } from "@aws-sdk/client-iam";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createClients } from "../../../functions/aws/clients.js";
import { createMigrationDeps } from "../../../functions/migration/deps.js";

/** The host a client would send a request to, captured before anything leaves the process. */
async function hostOf(
  client: { send: (c: any) => Promise<unknown>; middlewareStack: any },
  command: unknown,
) {
  let host = "";
  client.middlewareStack.add(
    () => async (args: { request: { hostname: string; port?: number } }) => {
      host = `${args.request.hostname}${args.request.port ? `:${args.request.port}` : ""}`;
      throw new Error("captured");
    },
    { step: "build", name: "captureHost" },
  );
  await client.send(command).catch(() => undefined);
  return host;
}

describe("endpoint overrides (issue 13: deployed functions ignore AWS_ENDPOINT_URL)", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each([
    ["AWS_ENDPOINT_URL", "http://127.0.0.1:9"],
    ["AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:9"],
    ["AWS_ENDPOINT_URL_EKS", "http://127.0.0.1:9"],
  ])("ignores %s without PODID_LOCAL=1", async (name, url) => {
    // Prepare
    vi.stubEnv("PODID_LOCAL", undefined);
    vi.stubEnv(name, url);
    vi.stubEnv("AWS_ACCESS_KEY_ID", "testing");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "testing");
    const clients = createClients({ region: "eu-west-1" });

    // Act
    const eks = await hostOf(clients.eks, new ListClustersCommand({}));
    const iam = await hostOf(clients.iam, new ListRolesCommand({}));

    // Assess
    expect(eks).toBe("eks.eu-west-1.amazonaws.com");
    expect(iam).toBe("iam.amazonaws.com");
  });

  it("honours AWS_ENDPOINT_URL with PODID_LOCAL=1 (the local account)", async () => {
    vi.stubEnv("PODID_LOCAL", "1");
    vi.stubEnv("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    vi.stubEnv("AWS_ACCESS_KEY_ID", "testing");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "testing");
    const clients = createClients({ region: "eu-west-1" });

    const eks = await hostOf(clients.eks, new ListClustersCommand({}));

    expect(eks).toBe("127.0.0.1:9");
  });

  it("does not count PODID_LOCAL values other than 1", async () => {
    vi.stubEnv("PODID_LOCAL", "true");
    vi.stubEnv("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    vi.stubEnv("AWS_ACCESS_KEY_ID", "testing");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "testing");

    const eks = await hostOf(createClients({ region: "eu-west-1" }).eks, new ListClustersCommand({}));

    expect(eks).toBe("eks.eu-west-1.amazonaws.com");
  });

  it("applies to the migration function's clients too", async () => {
    vi.stubEnv("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    vi.stubEnv("AWS_ACCESS_KEY_ID", "testing");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "testing");
    vi.stubEnv("AWS_REGION", "eu-west-1");

    const sm = (name: string) => `arn:aws:states:eu-west-1:123456789012:stateMachine:${name}`;
    const env = {
      AWS_REGION: "eu-west-1",
      MIGRATION_TABLE: "migrations",
      MIGRATION_STATE_MACHINE_ARN: sm("run"),
      MIGRATION_FINALIZE_STATE_MACHINE_ARN: sm("finalize"),
      MIGRATION_ROLLBACK_STATE_MACHINE_ARN: sm("rollback"),
      MIGRATION_CLUSTER_LEASE_SECONDS: "3600",
      PACING_TABLE: "limits",
    };
    const deployed = createMigrationDeps(env);
    const local = createMigrationDeps({ ...env, PODID_LOCAL: "1" });

    expect(await hostOf(deployed.clients.eks, new ListClustersCommand({}))).toBe(
      "eks.eu-west-1.amazonaws.com",
    );
    expect(await hostOf(local.clients.eks, new ListClustersCommand({}))).toBe("127.0.0.1:9");
  });
});
