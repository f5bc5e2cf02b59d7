import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  paginateQuery,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { BudgetGrant, DeletionBudget, HeldDeletion } from "../app/ports.js";
import { budgetLimit, budgetWindow } from "../core/budget.js";

const BUDGET = "budget";
const HELD = "held";

/**
 * The account-wide deletion budget in DynamoDB: one item per hour window (`used`, and the `lim`
 * fixed by the window's first writer), taken with conditional updates so concurrent workers never
 * exceed it together; held deletions are items under pk `held`.
 */
export class DynamoDeletionBudget implements DeletionBudget {
  constructor(
    private readonly db: DynamoDBClient,
    readonly tableName: string,
    private readonly settings: { floor: number; fraction: number },
  ) {}

  async take(wanted: number, managed: number, now: Date): Promise<BudgetGrant> {
    const window = budgetWindow(now);
    const key = { pk: { S: BUDGET }, sk: { S: window } };
    const opened = await this.db.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression:
          "SET lim = if_not_exists(lim, :lim), used = if_not_exists(used, :zero), expiresAt = :exp",
        ExpressionAttributeValues: {
          ":lim": { N: String(budgetLimit(managed, this.settings)) },
          ":zero": { N: "0" },
          ":exp": { N: String(Math.floor(now.getTime() / 1000) + 7 * 86400) },
        },
        ReturnValues: "ALL_NEW",
      }),
    );
    const limit = Number(opened.Attributes?.lim?.N ?? "0");
    let used = Number(opened.Attributes?.used?.N ?? "0");
    for (let attempt = 0; attempt < 20; attempt++) {
      const n = Math.min(wanted, limit - used);
      if (n <= 0) return { granted: 0, limit, used, window };
      try {
        const out = await this.db.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: "SET used = used + :n",
            ConditionExpression: "used <= :max",
            ExpressionAttributeValues: { ":n": { N: String(n) }, ":max": { N: String(limit - n) } },
            ReturnValues: "ALL_NEW",
          }),
        );
        return { granted: n, limit, used: Number(out.Attributes?.used?.N ?? used + n), window };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const again = await this.db.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: "SET used = used + :zero",
            ExpressionAttributeValues: { ":zero": { N: "0" } },
            ReturnValues: "ALL_NEW",
          }),
        );
        used = Number(again.Attributes?.used?.N ?? limit);
      }
    }
    return { granted: 0, limit, used, window };
  }

  async held(clusterName?: string): Promise<HeldDeletion[]> {
    const items: HeldDeletion[] = [];
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.tableName,
        KeyConditionExpression: clusterName ? "pk = :pk AND begins_with(sk, :c)" : "pk = :pk",
        ExpressionAttributeValues: {
          ":pk": { S: HELD },
          ...(clusterName ? { ":c": { S: `${clusterName}/` } } : {}),
        },
        ConsistentRead: true,
      },
    );
    for await (const page of pages)
      for (const item of page.Items ?? [])
        if (item.data?.S) items.push(JSON.parse(item.data.S) as HeldDeletion);
    return items;
  }

  async hold(items: HeldDeletion[]): Promise<void> {
    for (const item of items) {
      try {
        await this.db.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: { pk: { S: HELD }, sk: { S: item.id }, data: { S: JSON.stringify(item) } },
            // an operator's decision on the same deletion is never overwritten
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
  }

  async decide(id: string, status: "approved" | "rejected"): Promise<HeldDeletion | undefined> {
    const found = (await this.held()).find((h) => h.id === id);
    if (!found) return undefined;
    const decided: HeldDeletion = { ...found, status };
    try {
      await this.db.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { pk: { S: HELD }, sk: { S: id }, data: { S: JSON.stringify(decided) } },
          ConditionExpression: "attribute_exists(pk)",
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
    return decided;
  }

  async release(id: string): Promise<void> {
    await this.db.send(
      new DeleteItemCommand({ TableName: this.tableName, Key: { pk: { S: HELD }, sk: { S: id } } }),
    );
  }
}
