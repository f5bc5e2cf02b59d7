import { describe, expect, it } from "vitest";
import { configFromContext, regionalPacingRates } from "../../infra/config.js";

const context = (values: Record<string, string>) => (key: string) => values[key];

describe("deployment configuration: pacing", () => {
  it("takes the share and the account's rates from CDK context", () => {
    // Act
    const config = configFromContext(
      context({ pacingShare: "0.3", pacingRates: "eks-read=40, iam-write=8" }),
    );

    // Assess: families not named keep their defaults
    expect(config.pacingShare).toBe(0.3);
    expect(regionalPacingRates(config)).toBe(
      "eks-read=40,eks-write=5,iam-read=20,iam-write=8,cloudtrail-lookup=2",
    );
  });

  it("refuses a share outside (0, 1] and rates it cannot read, naming the key", () => {
    const refused: Record<string, string>[] = [
      { pacingShare: "0" },
      { pacingShare: "1.5" },
      { pacingRates: "eks-read=fast" },
      { pacingRates: "s3=100" },
      { pacingRates: "eks-read=-1" },
    ];
    for (const values of refused)
      expect(() => configFromContext(context(values)), JSON.stringify(values)).toThrow(
        new RegExp(Object.keys(values)[0]!),
      );
  });

  it("divides IAM's rates, which are global, among the regions; EKS and LookupEvents are per region", () => {
    // Act
    const config = configFromContext(context({ regions: "us-east-1,eu-west-1,ap-south-1,eu-central-1" }));

    // Assess
    expect(regionalPacingRates(config)).toBe(
      "eks-read=20,eks-write=5,iam-read=5,iam-write=5,cloudtrail-lookup=2",
    );
  });
});
