import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ResourceInUseException,
  ResourceNotFoundException,
} from "@aws-sdk/client-dynamodb";

/**
 * Durable state of migration runs, outside the execution state (which must stay under 256 KB for
 * 500 service accounts): the plan, the original trust policy of each touched role, the
 * associations and add-on changes a run made, and approval decisions. Key: (migrationId, item).
 */
export class MigrationStore {
  constructor(
    private readonly db: DynamoDBClient,
    readonly tableName: string,
  ) {}

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
    let start: Record<string, import("@aws-sdk/client-dynamodb").AttributeValue> | undefined;
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
}
