import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  paginateQuery,
} from "@aws-sdk/client-dynamodb";
import type { IndexedCluster, IndexedRole, TemplateIndex } from "../app/ports.js";

const ROLE = "role";
const CLUSTER = "cluster";
const META = "meta";

/** A role item; `readAt` is also a top-level attribute, so conditions can compare read times. */
function roleItem(r: IndexedRole) {
  return { pk: { S: ROLE }, sk: { S: r.name }, readAt: { S: r.readAt }, data: { S: JSON.stringify(r) } };
}

/**
 * The template index in DynamoDB (pk, sk; `data` holds the JSON of the item): pk `role`, sk role
 * name; pk `cluster`, sk cluster name with its managed associations by source role.
 */
export class DynamoTemplateIndex implements TemplateIndex {
  constructor(
    private readonly db: DynamoDBClient,
    readonly tableName: string,
  ) {}

  private async all<T>(pk: string): Promise<T[]> {
    const items: T[] = [];
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": { S: pk } },
        ConsistentRead: true,
      },
    );
    for await (const page of pages)
      for (const item of page.Items ?? []) if (item.data?.S) items.push(JSON.parse(item.data.S) as T);
    return items;
  }

  private async put(pk: string, sk: string, data: unknown): Promise<void> {
    await this.db.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { pk: { S: pk }, sk: { S: sk }, data: { S: JSON.stringify(data) } },
      }),
    );
  }

  private async remove(pk: string, sk: string): Promise<void> {
    await this.db.send(
      new DeleteItemCommand({ TableName: this.tableName, Key: { pk: { S: pk }, sk: { S: sk } } }),
    );
  }

  async roles(): Promise<IndexedRole[]> {
    return await this.all<IndexedRole>(ROLE);
  }

  async role(name: string): Promise<IndexedRole | undefined> {
    const out = await this.db.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: ROLE }, sk: { S: name } },
        ConsistentRead: true,
      }),
    );
    return out.Item?.data?.S ? (JSON.parse(out.Item.data.S) as IndexedRole) : undefined;
  }

  async putRole(role: IndexedRole): Promise<void> {
    await this.db.send(new PutItemCommand({ TableName: this.tableName, Item: roleItem(role) }));
  }

  async deleteRole(name: string): Promise<void> {
    await this.remove(ROLE, name);
  }

  async builtAt(): Promise<string | undefined> {
    const out = await this.db.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: META }, sk: { S: "built" } },
        ConsistentRead: true,
      }),
    );
    return out.Item?.data?.S ? (JSON.parse(out.Item.data.S) as { readAt: string }).readAt : undefined;
  }

  async replaceRoles(roles: IndexedRole[], readAt: Date): Promise<void> {
    const current = new Map((await this.roles()).map((r) => [r.name, r]));
    const keep = new Set(roles.map((r) => r.name));
    const at = readAt.toISOString();
    // only changed items are written, and never over an item read later (an iam-event's refresh)
    const newer = "attribute_not_exists(pk) OR readAt < :at";
    for (const r of roles) {
      const known = current.get(r.name);
      if (known && JSON.stringify({ ...known, readAt: "" }) === JSON.stringify({ ...r, readAt: "" }))
        continue;
      await this.conditional(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...roleItem(r), readAt: { S: at } },
          ConditionExpression: newer,
          ExpressionAttributeValues: { ":at": { S: at } },
        }),
      );
    }
    for (const name of [...current.keys()].filter((n) => !keep.has(n))) {
      await this.conditional(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: ROLE }, sk: { S: name } },
          ConditionExpression: "readAt < :at",
          ExpressionAttributeValues: { ":at": { S: at } },
        }),
      );
    }
    await this.put(META, "built", { readAt: at });
  }

  private async conditional(command: PutItemCommand | DeleteItemCommand): Promise<void> {
    try {
      await this.db.send(command as PutItemCommand);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async clusters(): Promise<IndexedCluster[]> {
    return await this.all<IndexedCluster>(CLUSTER);
  }

  async cluster(name: string): Promise<IndexedCluster | undefined> {
    const out = await this.db.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: CLUSTER }, sk: { S: name } },
        ConsistentRead: true,
      }),
    );
    return out.Item?.data?.S ? (JSON.parse(out.Item.data.S) as IndexedCluster) : undefined;
  }

  /**
   * One consistent BatchGetItem per 100 names; keys DynamoDB leaves unprocessed (throughput) are
   * asked once more in a batch, then one GetItem each, so a busy table costs reads, never a row.
   */
  async clustersNamed(names: readonly string[]): Promise<Map<string, IndexedCluster>> {
    const rows = new Map<string, IndexedCluster>();
    const unique = [...new Set(names)];
    for (let i = 0; i < unique.length; i += 100) {
      let keys = unique.slice(i, i + 100).map((name) => ({ pk: { S: CLUSTER }, sk: { S: name } }));
      for (let attempt = 0; attempt < 2 && keys.length > 0; attempt++) {
        const out = await this.db.send(
          new BatchGetItemCommand({
            RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } },
          }),
        );
        for (const item of out.Responses?.[this.tableName] ?? [])
          if (item.data?.S) {
            const row = JSON.parse(item.data.S) as IndexedCluster;
            rows.set(row.name, row);
          }
        keys = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as typeof keys;
      }
      for (const key of keys) {
        const row = await this.cluster(key.sk.S);
        if (row) rows.set(row.name, row);
      }
    }
    return rows;
  }

  async putCluster(cluster: IndexedCluster): Promise<void> {
    await this.put(CLUSTER, cluster.name, cluster);
  }

  async deleteCluster(name: string): Promise<void> {
    await this.remove(CLUSTER, name);
  }
}
