import { randomBytes, randomInt } from "node:crypto";
import type { IssuedSession } from "./cloudtrail-records.js";

const KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Temporary credentials the local account hands out, with the session they belong to. */
export interface LocalSession extends IssuedSession {
  secretAccessKey: string;
  sessionToken: string;
  roleArn: string;
  accountId: string;
  createdAt: Date;
}

/**
 * Issues temporary credentials (ASIA… keys, as STS's temporary keys are) and remembers them, so a
 * later call signed with them is attributed to its assumed role in CloudTrail.
 */
export class SessionRegistry {
  private byKey = new Map<string, LocalSession>();

  reset(): void {
    this.byKey.clear();
  }

  issue(input: {
    roleArn: string;
    roleId: string;
    sessionName: string;
    accountId: string;
    now: Date;
    durationSeconds: number;
  }): LocalSession {
    let accessKeyId = "ASIA";
    for (let i = 0; i < 16; i++) accessKeyId += KEY_ALPHABET[randomInt(KEY_ALPHABET.length)];
    const roleName = input.roleArn.split("/").pop() ?? "";
    const partition = input.roleArn.split(":")[1] ?? "aws";
    const session: LocalSession = {
      accessKeyId,
      secretAccessKey: randomBytes(30).toString("base64").slice(0, 40),
      sessionToken: `FQoGZXIvYXdzE${randomBytes(96).toString("base64")}`,
      expiration: new Date(input.now.getTime() + input.durationSeconds * 1000),
      assumedRoleArn: `arn:${partition}:sts::${input.accountId}:assumed-role/${roleName}/${input.sessionName}`,
      assumedRoleId: `${input.roleId}:${input.sessionName}`,
      sessionName: input.sessionName,
      roleArn: input.roleArn,
      accountId: input.accountId,
      createdAt: input.now,
    };
    this.byKey.set(accessKeyId, session);
    return session;
  }

  find(accessKeyId: string): LocalSession | undefined {
    return this.byKey.get(accessKeyId);
  }

  /** CloudTrail userIdentity of a caller signing with this access key. */
  callerIdentity(accessKeyId: string, accountId: string): Record<string, unknown> {
    const session = this.byKey.get(accessKeyId);
    if (session) {
      const roleId = session.assumedRoleId.split(":")[0];
      return {
        type: "AssumedRole",
        principalId: session.assumedRoleId,
        arn: session.assumedRoleArn,
        accountId: session.accountId,
        accessKeyId,
        sessionContext: {
          sessionIssuer: {
            type: "Role",
            principalId: roleId,
            arn: session.roleArn,
            accountId: session.accountId,
            userName: session.roleArn.split("/").pop(),
          },
          attributes: {
            creationDate: `${session.createdAt.toISOString().slice(0, 19)}Z`,
            mfaAuthenticated: "false",
          },
        },
      };
    }
    // long-term keys of the local account name no IAM user: the caller is known by its key only
    return { type: "IAMUser", accountId, accessKeyId, userName: accessKeyId };
  }
}
