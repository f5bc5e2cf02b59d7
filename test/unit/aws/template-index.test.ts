import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { DynamoTemplateIndex } from "../../../functions/aws/template-index.js";

const item = (name: string) => ({
  pk: { S: "cluster" },
  sk: { S: name },
  data: { S: JSON.stringify({ name, arn: `arn:${name}`, tags: {}, managedBySource: {}, readAt: "t" }) },
});

describe("template index: cluster rows by name", () => {
  it("asks again for the keys DynamoDB left unprocessed, then one by one, and never drops a row", async () => {
    // Prepare: BatchGetItem answers one key and leaves the others unprocessed, every time
    const sent: { command: string; input: any }[] = [];
    const db = {
      send: async (command: { constructor: { name: string }; input: any }) => {
        sent.push({ command: command.constructor.name, input: command.input });
        if (command.constructor.name === "GetItemCommand") return { Item: item(command.input.Key.sk.S) };
        const keys = command.input.RequestItems.t.Keys as { sk: { S: string } }[];
        return {
          Responses: { t: [item(keys[0]!.sk.S)] },
          UnprocessedKeys: { t: { Keys: keys.slice(1) } },
        };
      },
    } as unknown as DynamoDBClient;

    // Act
    const rows = await new DynamoTemplateIndex(db, "t").clustersNamed(["a", "b", "c"]);

    // Assess: a, then b on the second batch, then c alone; each read consistent
    expect([...rows.keys()].sort()).toEqual(["a", "b", "c"]);
    expect(sent.map((s) => s.command)).toEqual([
      "BatchGetItemCommand",
      "BatchGetItemCommand",
      "GetItemCommand",
    ]);
    expect(sent[1]!.input.RequestItems.t).toMatchObject({
      Keys: [{ sk: { S: "b" } }, { sk: { S: "c" } }],
      ConsistentRead: true,
    });
    expect(sent[2]!.input.ConsistentRead).toBe(true);
  });
});
