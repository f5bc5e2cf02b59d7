/**
 * Leases in a DynamoDB table keyed (pk, sk): item pk `lease#<key>`, sk `lease`, with the holder
 * (`owner`) and its expiry (`expiresAt`, epoch ms). Taken and given back with conditional writes,
 * so every writer that meets at the same table and key is serialized, whatever process it runs in.
 * Used by the migration (cluster and role leases, in its table) and by the reconcile worker
 * (catalog roles, in the template index table).
 */

import { randomUUID } from "node:crypto";
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { BusyError } from "../core/errors.js";

/** A lease someone else holds (a retryable condition: the holder finishes or its lease expires). */
export class LeaseBusyError extends BusyError {
  override name = "LeaseBusy";
  constructor(
    message: string,
    readonly holder?: string,
  ) {
    super(message);
  }
}

/** The table item of lease `key` held by `owner` until `until` (epoch ms). */
function leaseItem(key: string, owner: string, until: number) {
  return {
    pk: { S: `lease#${key}` },
    sk: { S: "lease" },
    owner: { S: owner },
    expiresAt: { N: String(until) },
    data: { S: JSON.stringify({ owner, until: new Date(until).toISOString() }) },
  };
}

/** Leases over one DynamoDB table with string keys `pk` and `sk`. */
export class DynamoLeases {
  constructor(
    private readonly db: DynamoDBClient,
    readonly tableName: string,
  ) {}

  /** Who holds lease `key` and until when (ISO-8601), as stored; undefined when nobody does. */
  async holder(key: string): Promise<{ owner: string; until: string } | undefined> {
    const out = await this.db.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: `lease#${key}` }, sk: { S: "lease" } },
        ConsistentRead: true,
      }),
    );
    const data = out.Item?.data?.S;
    return data === undefined ? undefined : (JSON.parse(data) as { owner: string; until: string });
  }

  /**
   * Takes the lease `key` for `owner` until `now + seconds` with a conditional write: free,
   * expired, or already this owner's. Throws LeaseBusyError with the holder otherwise.
   */
  async acquire(key: string, owner: string, seconds: number, now: Date): Promise<void> {
    const written = await this.putLease(
      leaseItem(key, owner, now.getTime() + seconds * 1000),
      "attribute_not_exists(pk) OR expiresAt < :now OR #owner = :owner",
      { ":now": { N: String(now.getTime()) }, ":owner": { S: owner } },
    );
    if (written) return;
    const holder = await this.holder(key);
    throw new LeaseBusyError(
      `${key} is held by ${holder?.owner ?? "another run"} until ${holder?.until ?? "its expiry"}`,
      holder?.owner,
    );
  }

  /** Takes over a lease from `previous` (whose holder has ended), only if it still holds it. */
  async takeOver(key: string, previous: string, owner: string, seconds: number, now: Date): Promise<boolean> {
    return await this.putLease(leaseItem(key, owner, now.getTime() + seconds * 1000), "#owner = :previous", {
      ":previous": { S: previous },
    });
  }

  /** Writes a lease item if `condition` holds; false when it does not. */
  private async putLease(
    item: ReturnType<typeof leaseItem>,
    condition: string,
    values: Record<string, { S: string } | { N: string }>,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: condition,
          ExpressionAttributeNames: { "#owner": "owner" },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Gives the lease back if `owner` still holds it. */
  async release(key: string, owner: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: `lease#${key}` }, sk: { S: "lease" } },
          ConditionExpression: "#owner = :owner",
          ExpressionAttributeNames: { "#owner": "owner" },
          ExpressionAttributeValues: { ":owner": { S: owner } },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

/** What {@link withLease} needs: where leases are taken, and time. */
export interface LeaseOptions {
  /** how long a lease lasts unless given back (a holder that dies loses it then) */
  seconds: number;
  /** how long to wait, with back-off, for a busy lease before throwing LeaseBusyError */
  waitMs: number;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
}

/** The lease key of an IAM role: one key per role whoever edits it (migration, catalog). */
export function roleLeaseKey(roleArn: string): string {
  return `role#${roleArn.toLowerCase()}`;
}

/**
 * Runs `edit` holding lease `key` for `owner` (unique per call), given back afterwards whatever
 * happens. A busy lease is waited for with back-off up to `waitMs`, then LeaseBusyError is thrown:
 * the caller retries later, it never goes ahead without the lease.
 */
export async function withLease<T>(
  leases: Pick<DynamoLeases, "acquire" | "release">,
  key: string,
  owner: string,
  options: LeaseOptions,
  edit: () => Promise<T>,
): Promise<T> {
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      await leases.acquire(key, owner, options.seconds, options.now());
      break;
    } catch (error) {
      if (!(error instanceof LeaseBusyError) || waited >= options.waitMs) throw error;
      const delay = Math.min(2000, 50 * 2 ** attempt);
      waited += delay;
      await options.sleep(delay);
    }
  }
  try {
    return await edit();
  } finally {
    await leases.release(key, owner);
  }
}

/** Runs `edit` holding the lease of the role `roleArn`; LeaseBusyError when it cannot be had. */
export type RoleLock = <T>(roleArn: string, edit: () => Promise<T>) => Promise<T>;

/**
 * A {@link RoleLock} over DynamoDB leases (key {@link roleLeaseKey}): each call takes the lease
 * under its own owner id (`holder` plus a random suffix), so two calls never share a lease.
 */
export function dynamoRoleLock(
  leases: Pick<DynamoLeases, "acquire" | "release">,
  holder: string,
  options: LeaseOptions,
): RoleLock {
  return (roleArn, edit) =>
    withLease(leases, roleLeaseKey(roleArn), `${holder}#${randomUUID()}`, options, edit);
}
