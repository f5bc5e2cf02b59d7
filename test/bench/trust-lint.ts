/**
 * How long `podid trust lint` takes on the worst policies up to the size limit (issue 12: under
 * 100 ms). Adversarial wildcard patterns (the security review's ReDoS shape) fill every condition
 * value, at the default 2,048-character quota and at 8,192 characters; the lint judges them
 * against 20 cluster ARNs. Prints the slowest of 20 runs per case. Run: `npx tsx test/bench/trust-lint.ts`.
 */
import { performance } from "node:perf_hooks";
import { lintTrustPolicy, podIdentityRefusals } from "../../functions/core/trust/index.js";
import { ACCOUNT, CLUSTER_ARN, podsStatement, policy } from "../support/policies.js";

function adversarialPolicy(limit: number): string {
  const trap = (i: number, pairs: number) => `arn:aws:eks:*:${ACCOUNT}:cluster/${"*?".repeat(pairs)}#${i}`;
  let pairs = 10;
  let text = "";
  for (;;) {
    const next = policy(
      podsStatement({
        Condition: {
          ArnLike: { "aws:SourceArn": Array.from({ length: 6 }, (_, i) => trap(i, pairs)) },
          StringLike: {
            "aws:SourceAccount": `${"*?".repeat(pairs)}#`,
            "aws:RequestTag/kubernetes-namespace": `${"*?".repeat(pairs)}#`,
          },
        },
      }),
    );
    if (next.replace(/\s/g, "").length > limit) return text;
    text = next;
    pairs += 10;
  }
}

const clusterArns = Array.from({ length: 20 }, (_, i) =>
  CLUSTER_ARN.replace(/cluster\/.*/, `cluster/${"c".repeat(80)}${i}`),
);
const clusters = clusterArns.map((arn) => ({ name: arn.split("/")[1] ?? arn, arn }));
for (const limit of [2048, 8192]) {
  const text = adversarialPolicy(limit);
  let slowest = 0;
  for (let run = 0; run < 20; run++) {
    const started = performance.now();
    lintTrustPolicy(text, { accountId: ACCOUNT, clusterArns, sizeLimit: limit });
    podIdentityRefusals(text, { accountId: ACCOUNT, clusters });
    slowest = Math.max(slowest, performance.now() - started);
  }
  console.log(
    `trust lint, ${text.length} characters (limit ${limit}), 20 cluster ARNs: slowest of 20 runs ${slowest.toFixed(1)} ms`,
  );
}
