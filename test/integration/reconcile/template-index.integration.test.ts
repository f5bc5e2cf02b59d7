/**
 * The template index's batch read of cluster rows (one BatchGetItem per 100 names, consistent) on
 * the local account's DynamoDB, through the real SDK client.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import type { IndexedCluster } from "../../../functions/app/ports.js";
import { DynamoTemplateIndex } from "../../../functions/aws/template-index.js";
import { LOCAL_WORK } from "../../../local/index.js";
import { ACCOUNT_ID, useLocalAccount } from "../../support/local-account.js";

const ctx = useLocalAccount();

const row = (name: string): IndexedCluster => ({
  name,
  arn: `arn:aws:eks:us-east-1:${ACCOUNT_ID}:cluster/${name}`,
  tags: { team: name },
  status: "ACTIVE",
  managedBySource: { web: 1 },
  readAt: "2026-11-23T12:00:00.000Z",
});

describe("template index: cluster rows by name", () => {
  it("reads the named rows in batches of 100 and leaves out the names it has no row for", async () => {
    // Prepare: 150 rows
    const db = new DynamoDBClient({
      endpoint: ctx.account.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
    const index = new DynamoTemplateIndex(db, LOCAL_WORK.indexTable);
    const names = Array.from({ length: 150 }, (_, i) => `c-${String(i).padStart(3, "0")}`);
    for (const name of names) await index.putCluster(row(name));
    const sent: string[] = [];
    db.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(String(context.commandName));
        return await next(args);
      },
      { step: "initialize" },
    );

    // Act
    const rows = await index.clustersNamed([...names, "absent", names[0]!]);

    // Assess
    expect([...rows.keys()].sort()).toEqual(names);
    expect(rows.get("c-007")).toEqual(row("c-007"));
    expect(sent).toEqual(["BatchGetItemCommand", "BatchGetItemCommand"]);
  });
});
