import {
  type AttributeValue,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ResourceInUseException,
  ResourceNotFoundException,
} from "@aws-sdk/client-dynamodb";
import { DynamoLeases } from "./leases.js";

/** Largest text stored in one item (DynamoDB's item limit is 400 KB; keys and names count too). */
export const PART_BYTES = 300_000;

export { LeaseBusyError } from "./leases.js";

/**
 * Durable state of migration runs, outside the execution state (which must stay small whatever
 * the number of service accounts): plans and records of any size (split over items), the edits a
 * run made, approval decisions, and leases. Key: (run key, item); the run key is the execution
 * ARN, so a task only ever reads what its own execution wrote.
 */
export class MigrationStore {
  /** the leases (cluster, role) live in the same table */
  readonly leases: DynamoLeases;

  constructor(
    private readonly db: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.leases = new DynamoLeases(db, tableName);
  }

  /** Creates the table when it does not exist (local runs; deployed stacks create it). */
  async ensureTable(): Promise<void> {
    try {
      await this.db.send(new DescribeTableCommand({ TableName: this.tableName }));
      return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    try {
      await this.db.send(
        new CreateTableCommand({
          TableName: this.tableName,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [
            { AttributeName: "pk", AttributeType: "S" },
            { AttributeName: "sk", AttributeType: "S" },
          ],
          KeySchema: [
            { AttributeName: "pk", KeyType: "HASH" },
            { AttributeName: "sk", KeyType: "RANGE" },
          ],
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }

  async put(
    migrationId: string,
    sk: string,
    data: unknown,
    options: { onlyIfAbsent?: boolean } = {},
  ): Promise<boolean> {
    try {
      await this.db.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { pk: { S: migrationId }, sk: { S: sk }, data: { S: JSON.stringify(data) } },
          ...(options.onlyIfAbsent ? { ConditionExpression: "attribute_not_exists(pk)" } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (options.onlyIfAbsent && error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async get<T>(migrationId: string, sk: string): Promise<T | undefined> {
    const out = await this.db.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: migrationId }, sk: { S: sk } },
        ConsistentRead: true,
      }),
    );
    const data = out.Item?.data?.S;
    return data === undefined ? undefined : (JSON.parse(data) as T);
  }

  /** Every item of a run whose key starts with `prefix`. */
  async list<T>(migrationId: string, prefix: string): Promise<{ sk: string; data: T }[]> {
    const items: { sk: string; data: T }[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": { S: migrationId }, ":prefix": { S: prefix } },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) {
        items.push({ sk: item.sk?.S ?? "", data: JSON.parse(item.data?.S ?? "null") as T });
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** Stores a value of any size, split over items of at most PART_BYTES characters. */
  async putLarge(migrationId: string, sk: string, data: unknown): Promise<void> {
    const text = JSON.stringify(data);
    const parts = Math.max(1, Math.ceil(text.length / PART_BYTES));
    for (let i = 0; i < parts; i++) {
      await this.db.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            pk: { S: migrationId },
            sk: { S: `${sk}#part#${String(i).padStart(5, "0")}` },
            data: { S: text.slice(i * PART_BYTES, (i + 1) * PART_BYTES) },
          },
        }),
      );
    }
    // the head last: a reader sees a value only once every part is there
    await this.put(migrationId, sk, { parts, length: text.length });
  }

  /** Reads a value stored with putLarge (undefined when absent or incomplete). */
  async getLarge<T>(migrationId: string, sk: string): Promise<T | undefined> {
    const head = await this.get<{ parts: number; length: number }>(migrationId, sk);
    if (!head) return undefined;
    const parts: string[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": { S: migrationId }, ":prefix": { S: `${sk}#part#` } },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) {
        const index = Number((item.sk?.S ?? "").slice(`${sk}#part#`.length));
        if (index < head.parts) parts[index] = item.data?.S ?? "";
      }
      start = out.LastEvaluatedKey;
    } while (start);
    const text = parts.join("");
    if (parts.length !== head.parts || text.length !== head.length) return undefined;
    return JSON.parse(text) as T;
  }

  async delete(migrationId: string, sk: string): Promise<void> {
    await this.db.send(
      new DeleteItemCommand({ TableName: this.tableName, Key: { pk: { S: migrationId }, sk: { S: sk } } }),
    );
  }

  /**
   * Takes the lease `key` for `owner` until `now + seconds` with a conditional write: free,
   * expired, or already this owner's. Throws LeaseBusyError with the holder otherwise.
   */
  async acquireLease(key: string, owner: string, seconds: number, now: Date): Promise<void> {
    await this.leases.acquire(key, owner, seconds, now);
  }

  /** Takes over a lease from `previous` (whose execution has ended), only if it still holds it. */
  async takeOverLease(
    key: string,
    previous: string,
    owner: string,
    seconds: number,
    now: Date,
  ): Promise<boolean> {
    return await this.leases.takeOver(key, previous, owner, seconds, now);
  }

  /** Gives the lease back if `owner` still holds it. */
  async releaseLease(key: string, owner: string): Promise<void> {
    await this.leases.release(key, owner);
  }
}
