import { type LocalResponse, queryError } from "./http.js";
import { decodeXml, getRoleXml, type MotoRole, parseRoleXml, TRUST_ELEMENT } from "./moto-client.js";
import type { RequestIdentity } from "./operations.js";

/** What the IAM layer decided before a call is proxied to moto. */
export interface IamPrepared {
  /** the request body to send to moto (RoleName rewritten to the stored case) */
  body: Buffer;
  /** an answer given without asking moto */
  response?: LocalResponse;
  /** the trust document (JSON text) visible before an UpdateAssumeRolePolicy */
  previousTrust?: string;
}

/** Settings the IAM layer reads on every call (from the front's fault config). */
export interface IamSettings {
  /** a new role stays invisible to EKS for this long */
  roleVisibilityDelayMs(): number;
  /** GetRole and EKS keep seeing the previous trust policy for this long after UpdateAssumeRolePolicy */
  trustDelayMs(): number;
}

/**
 * IAM semantics moto lacks, applied by the front around proxied IAM calls:
 * - role names are case-insensitive (IAM: names "aren't distinguished by case"; you cannot create
 *   both `App` and `app`): CreateRole of a differently-cased existing name is `EntityAlreadyExists`,
 *   and every other action's `RoleName` resolves to the stored case;
 * - eventual consistency: a new role is invisible to EKS for `roleVisibilityDelayMs`, and after
 *   `UpdateAssumeRolePolicy` GetRole (and the EKS role check) return the previous trust policy for
 *   `trustDelayMs` (ListRoles too), both measured on the front's clock;
 * - trust policies URL-encoded in ListRoles as in GetRole (IAM encodes both; moto only GetRole).
 * Not modelled: DeleteRole/recreate lag, policy and tag read-after-write lag.
 */
export class IamRoles {
  private readonly names = new Map<string, string>();
  private readonly createdAt = new Map<string, number>();
  private readonly stale = new Map<string, { json: string; until: number }>();
  private readonly cache = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly motoUrl: string,
    private readonly now: () => number,
    private readonly settings: IamSettings,
  ) {}

  reset(): void {
    this.names.clear();
    this.createdAt.clear();
    this.stale.clear();
    this.cache.clear();
  }

  /** Drops cached GetRole answers (every IAM write does). */
  clearCache(): void {
    this.cache.clear();
  }

  /** The role name as stored (IAM resolves names case-insensitively). */
  resolve(accountId: string, roleName: string): string {
    return this.names.get(key(accountId, roleName)) ?? roleName;
  }

  /** True while a freshly created role is not yet visible to EKS. */
  invisible(accountId: string, roleName: string): boolean {
    const delay = this.settings.roleVisibilityDelayMs();
    const created = this.createdAt.get(key(accountId, roleName));
    return delay > 0 && created !== undefined && this.now() - created < delay;
  }

  /** The role as EKS sees it right now (case-insensitive name, stale trust inside the window). */
  async roleForEks(accountId: string, roleName: string): Promise<MotoRole | undefined> {
    const name = this.resolve(accountId, roleName);
    const k = key(accountId, name);
    let cached = this.cache.get(k);
    if (!cached) {
      cached = getRoleXml(this.motoUrl, accountId, name);
      this.cache.set(k, cached);
      cached.catch(() => this.cache.delete(k));
    }
    const xml = await cached;
    return xml === undefined ? undefined : parseRoleXml(this.withStaleTrust(accountId, name, xml));
  }

  /** Called before an IAM call is proxied. */
  async before(id: RequestIdentity, body: Buffer): Promise<IamPrepared> {
    const form = new URLSearchParams(body.toString("utf8"));
    const roleName = form.get("RoleName");
    if (!roleName) return { body };
    const stored = this.names.get(key(id.accountId, roleName));
    if (id.operation === "CreateRole") {
      if (stored !== undefined && stored !== roleName) {
        // IAM's answer for a name taken regardless of case (EntityAlreadyExists, 409, model [MI])
        return {
          body,
          response: queryError(409, "EntityAlreadyExists", `Role with name ${roleName} already exists.`),
        };
      }
      return { body };
    }
    let out = body;
    if (stored !== undefined && stored !== roleName) {
      form.set("RoleName", stored);
      out = Buffer.from(form.toString());
    }
    const name = stored ?? roleName;
    if (id.operation === "UpdateAssumeRolePolicy" && this.settings.trustDelayMs() > 0) {
      const xml = await getRoleXml(this.motoUrl, id.accountId, name);
      const visible = xml === undefined ? undefined : this.withStaleTrust(id.accountId, name, xml);
      const element = visible === undefined ? undefined : TRUST_ELEMENT.exec(visible)?.[1];
      const previousTrust = element === undefined ? undefined : decodeURIComponent(decodeXml(element));
      return { body: out, ...(previousTrust !== undefined ? { previousTrust } : {}) };
    }
    return { body: out };
  }

  /** Called with moto's answer to a proxied IAM call. */
  after(id: RequestIdentity, prepared: IamPrepared, res: LocalResponse): LocalResponse {
    if (res.status >= 300) return res;
    if (id.operation === "ListRoles") return { ...res, body: this.listRolesAsIam(id.accountId, res.body) };
    const name = new URLSearchParams(prepared.body.toString("utf8")).get("RoleName");
    if (!name) return res;
    const k = key(id.accountId, name);
    switch (id.operation) {
      case "CreateRole":
        this.names.set(k, name);
        this.createdAt.set(k, this.now());
        return res;
      case "DeleteRole":
        this.names.delete(k);
        this.createdAt.delete(k);
        this.stale.delete(k);
        return res;
      case "UpdateAssumeRolePolicy":
        if (prepared.previousTrust !== undefined) {
          this.stale.set(k, {
            json: prepared.previousTrust,
            until: this.now() + this.settings.trustDelayMs(),
          });
        }
        return res;
      case "GetRole":
        return { ...res, body: this.withStaleTrust(id.accountId, name, res.body) };
      default:
        return res;
    }
  }

  private staleJson(accountId: string, name: string): string | undefined {
    const entry = this.stale.get(key(accountId, name));
    return entry && this.now() < entry.until ? entry.json : undefined;
  }

  private withStaleTrust(accountId: string, name: string, xml: string): string {
    const json = this.staleJson(accountId, name);
    if (json === undefined) return xml;
    return xml.replace(
      TRUST_ELEMENT,
      () => `<AssumeRolePolicyDocument>${urlEncode(json)}</AssumeRolePolicyDocument>`,
    );
  }

  /** ListRoles with every trust policy URL-encoded (moto sends raw JSON) and stale ones as GetRole has them. */
  private listRolesAsIam(accountId: string, xml: string): string {
    return xml.replace(
      /<RoleName>([^<]*)<\/RoleName>([\s\S]*?)<AssumeRolePolicyDocument>([^<]*)<\/AssumeRolePolicyDocument>/g,
      (_all, rawName: string, between: string, rawDoc: string) => {
        const name = decodeXml(rawName);
        const doc = decodeXml(rawDoc);
        const json =
          this.staleJson(accountId, name) ??
          (doc.trimStart().startsWith("{") ? doc : decodeURIComponent(doc));
        return `<RoleName>${rawName}</RoleName>${between}<AssumeRolePolicyDocument>${urlEncode(json)}</AssumeRolePolicyDocument>`;
      },
    );
  }
}

/** URL-encodes a policy as IAM and moto's GetRole do (RFC 3986, `/` kept). */
export function urlEncode(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, "/");
}

function key(accountId: string, roleName: string): string {
  return `${accountId}/${roleName.toLowerCase()}`;
}
