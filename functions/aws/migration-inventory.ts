import {
  DescribeAddonCommand,
  DescribeAddonConfigurationCommand,
  DescribeClusterCommand,
  type EKSClient,
} from "@aws-sdk/client-eks";
import type { AddonRef } from "../core/migration/discover.js";
import { listAddonNames } from "./inventory.js";

/**
 * Each add-on with what discovery needs: its IRSA role, namespace (namespaceConfig) and, from
 * DescribeAddonConfiguration for the installed version, the service accounts it supports on Pod
 * Identity (`podIdentityConfiguration`). A configuration that cannot be read stays undefined
 * (undecided), never "no support".
 */
export async function readAddonRefs(eks: EKSClient, clusterName: string): Promise<AddonRef[]> {
  const refs: AddonRef[] = [];
  for (const name of await listAddonNames(eks, clusterName)) {
    const { addon } = await eks.send(new DescribeAddonCommand({ clusterName, addonName: name }));
    if (!addon) continue;
    let podIdentityServiceAccounts: string[] | undefined;
    if (addon.addonVersion) {
      try {
        const config = await eks.send(
          new DescribeAddonConfigurationCommand({ addonName: name, addonVersion: addon.addonVersion }),
        );
        podIdentityServiceAccounts = (config.podIdentityConfiguration ?? []).flatMap((c) =>
          c.serviceAccount ? [c.serviceAccount] : [],
        );
      } catch {
        podIdentityServiceAccounts = undefined;
      }
    }
    refs.push({
      name,
      ...(addon.addonVersion ? { version: addon.addonVersion } : {}),
      ...(addon.serviceAccountRoleArn ? { serviceAccountRoleArn: addon.serviceAccountRoleArn } : {}),
      ...(addon.namespaceConfig?.namespace ? { namespace: addon.namespaceConfig.namespace } : {}),
      ...(podIdentityServiceAccounts ? { podIdentityServiceAccounts } : {}),
    });
  }
  return refs;
}

/** Whether a cluster runs in EKS Auto Mode (computeConfig.enabled): the agent is built in. */
export async function isAutoMode(eks: EKSClient, clusterName: string): Promise<boolean> {
  const { cluster } = await eks.send(new DescribeClusterCommand({ name: clusterName }));
  return cluster?.computeConfig?.enabled === true;
}
