import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";

/** A shape of a botocore service model (`service-2.json`), the members this validator reads. */
export interface ModelShape {
  type: string;
  members?: Record<string, ModelMember>;
  required?: string[];
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  enum?: string[];
  pattern?: string;
  min?: number;
  max?: number;
  timestampFormat?: string;
  error?: { httpStatusCode: number };
  exception?: boolean;
}

/** A member of a structure shape. */
export interface ModelMember {
  shape: string;
  location?: "uri" | "querystring" | "header" | "headers" | "statusCode";
  locationName?: string;
  idempotencyToken?: boolean;
}

/** An operation of the model. */
export interface ModelOperation {
  http: { method: string; requestUri: string };
  input?: { shape: string };
  output?: { shape: string };
  errors?: { shape: string }[];
}

/** A botocore service model as it is stored in `botocore/data/<service>/<version>/service-2.json(.gz)`. */
export interface ServiceModel {
  metadata: { protocol: string; apiVersion: string };
  operations: Record<string, ModelOperation>;
  shapes: Record<string, ModelShape>;
}

/** The botocore data directory of the installed AWS CLI (read at run time, never vendored). */
export function botocoreDataDir(): string {
  const dir = execFileSync(
    "python3",
    ["-c", "import botocore,os;print(os.path.join(os.path.dirname(botocore.__file__),'data'))"],
    { encoding: "utf8" },
  ).trim();
  if (!existsSync(dir)) throw new Error(`botocore data directory not found: ${dir}`);
  return dir;
}

/** Loads the newest API version of a service's model from the installed botocore. */
export function loadServiceModel(service: string): { model: ServiceModel; path: string } {
  const base = join(botocoreDataDir(), service);
  const version = readdirSync(base).sort().at(-1);
  if (!version) throw new Error(`no model versions under ${base}`);
  for (const name of ["service-2.json", "service-2.json.gz"]) {
    const path = join(base, version, name);
    if (!existsSync(path)) continue;
    const raw = readFileSync(path);
    const text = name.endsWith(".gz") ? gunzipSync(raw).toString("utf8") : raw.toString("utf8");
    return { model: JSON.parse(text) as ServiceModel, path };
  }
  throw new Error(`no service-2.json under ${join(base, version)}`);
}

/** Options of the validator. */
export interface ValidateOptions {
  /**
   * Shapes whose `min` is not enforced. Real responses break some output minimums: EKS answers
   * `"tags": {}` although `TagMap` has `min: 1` (AWS CLI example
   * awscli/examples/eks/create-pod-identity-association.rst; EKS User Guide pod-id-association).
   */
  ignoreMinOf?: string[];
}

/**
 * Validates a JSON value against a model shape: members known to the shape only, required members,
 * types, enums, patterns, lengths and ranges. Returns one message per violation (empty when valid).
 */
export function validateShape(
  model: ServiceModel,
  shapeName: string,
  value: unknown,
  path = "$",
  options: ValidateOptions = {},
): string[] {
  const shape = model.shapes[shapeName];
  if (!shape) return [`${path}: shape ${shapeName} is not in the model`];
  const errors: string[] = [];
  const bad = (message: string) => errors.push(`${path} (${shapeName}): ${message}`);
  const checkLength = (length: number, what: string) => {
    if (shape.min !== undefined && length < shape.min && !options.ignoreMinOf?.includes(shapeName))
      bad(`${what} ${length} < min ${shape.min}`);
    if (shape.max !== undefined && length > shape.max) bad(`${what} ${length} > max ${shape.max}`);
  };
  if (value === null) {
    bad("null");
    return errors;
  }
  switch (shape.type) {
    case "structure": {
      if (typeof value !== "object" || Array.isArray(value)) {
        bad(`expected an object, got ${JSON.stringify(value)}`);
        break;
      }
      const record = value as Record<string, unknown>;
      for (const name of shape.required ?? [])
        if (!(name in record)) bad(`required member ${name} is missing`);
      for (const [name, member] of Object.entries(record)) {
        const spec = shape.members?.[name];
        if (!spec) {
          bad(`member ${name} is not in the model`);
          continue;
        }
        errors.push(...validateShape(model, spec.shape, member, `${path}.${name}`, options));
      }
      break;
    }
    case "list":
      if (!Array.isArray(value)) {
        bad(`expected a list, got ${JSON.stringify(value)}`);
        break;
      }
      checkLength(value.length, "length");
      value.forEach((item, i) => {
        errors.push(...validateShape(model, shape.member!.shape, item, `${path}[${i}]`, options));
      });
      break;
    case "map":
      if (typeof value !== "object" || Array.isArray(value)) {
        bad(`expected a map, got ${JSON.stringify(value)}`);
        break;
      }
      checkLength(Object.keys(value).length, "entries");
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        errors.push(...validateShape(model, shape.key!.shape, k, `${path}{key ${k}}`, options));
        errors.push(...validateShape(model, shape.value!.shape, v, `${path}.${k}`, options));
      }
      break;
    case "string":
      if (typeof value !== "string") {
        bad(`expected a string, got ${JSON.stringify(value)}`);
        break;
      }
      checkLength([...value].length, "length");
      if (shape.enum && !shape.enum.includes(value))
        bad(`${JSON.stringify(value)} is not one of ${shape.enum.join("|")}`);
      if (shape.pattern && !patternMatches(shape.pattern, value))
        bad(`${JSON.stringify(value)} does not match ${shape.pattern}`);
      break;
    case "boolean":
      if (typeof value !== "boolean") bad(`expected a boolean, got ${JSON.stringify(value)}`);
      break;
    case "integer":
    case "long":
      if (typeof value !== "number" || !Number.isInteger(value))
        bad(`expected an integer, got ${JSON.stringify(value)}`);
      else {
        if (shape.min !== undefined && value < shape.min) bad(`${value} < min ${shape.min}`);
        if (shape.max !== undefined && value > shape.max) bad(`${value} > max ${shape.max}`);
      }
      break;
    case "float":
    case "double":
      if (typeof value !== "number") bad(`expected a number, got ${JSON.stringify(value)}`);
      break;
    case "timestamp":
      // restJson bodies carry epoch seconds unless the shape says otherwise
      if ((shape.timestampFormat ?? "unixTimestamp") === "unixTimestamp") {
        if (typeof value !== "number") bad(`expected epoch seconds, got ${JSON.stringify(value)}`);
      } else if (typeof value !== "string")
        bad(`expected a ${shape.timestampFormat} string, got ${JSON.stringify(value)}`);
      break;
    case "blob":
      if (typeof value !== "string") bad(`expected base64 text, got ${JSON.stringify(value)}`);
      break;
    default:
      bad(`type ${shape.type} is not supported by this validator`);
  }
  return errors;
}

/** botocore patterns are ECMAScript-compatible for EKS; an unparsable one is reported, not skipped. */
function patternMatches(pattern: string, value: string): boolean {
  return new RegExp(pattern, "u").test(value);
}

/** An HTTP request built from an operation's input shape (restJson: uri, querystring, header, body). */
export interface ModelRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * Serialises an input for a restJson operation the way the SDKs do, after validating it against the
 * input shape (so a test input the model would refuse is caught as a test bug): `{member}` and
 * `{member+}` of requestUri from uri members, querystring members (lists repeated), header members,
 * everything else as the JSON body; idempotency tokens are filled in when absent.
 */
export function buildRequest(
  model: ServiceModel,
  operation: string,
  input: Record<string, unknown>,
): ModelRequest {
  const op = model.operations[operation];
  if (!op) throw new Error(`operation ${operation} is not in the model`);
  const shapeName = op.input?.shape;
  const shape = shapeName ? model.shapes[shapeName] : undefined;
  const filled = { ...input };
  for (const [name, member] of Object.entries(shape?.members ?? {}))
    if (member.idempotencyToken && filled[name] === undefined) filled[name] = randomUUID();
  if (shapeName) {
    const errors = validateShape(model, shapeName, filled);
    if (errors.length > 0)
      throw new Error(`input for ${operation} does not follow the model: ${errors.join("; ")}`);
  }
  const [rawPath, rawQuery] = op.http.requestUri.split("?");
  const query = new URLSearchParams(rawQuery ?? "");
  const headers: Record<string, string> = {};
  const body: Record<string, unknown> = {};
  let path = rawPath!;
  for (const [name, value] of Object.entries(filled)) {
    const member = shape?.members?.[name];
    if (!member) continue;
    const wire = member.locationName ?? name;
    switch (member.location) {
      case "uri":
        path = path
          .replace(`{${wire}+}`, String(value).split("/").map(encodeURIComponent).join("/"))
          .replace(`{${wire}}`, encodeURIComponent(String(value)));
        break;
      case "querystring":
        for (const item of Array.isArray(value) ? value : [value]) query.append(wire, String(item));
        break;
      case "header":
        headers[wire] = String(value);
        break;
      default:
        body[wire] = value;
    }
  }
  const qs = query.toString();
  const hasBody = Object.keys(body).length > 0;
  return {
    method: op.http.method,
    path: qs ? `${path}?${qs}` : path,
    headers: hasBody ? { ...headers, "content-type": "application/json" } : headers,
    ...(hasBody ? { body: JSON.stringify(body) } : {}),
  };
}

/** A response as the contract test received it. */
export interface ModelResponse {
  status: number;
  headers: Headers;
  body: string;
}

/**
 * Validates a restJson response against the model: a 2xx body against the output shape; an error's
 * code (`x-amzn-errortype`, else `__type`/`code` of the body) against the operation's modelled errors,
 * its HTTP status against the error shape's `httpStatusCode`, and its body against the error shape.
 * Returns the error code (undefined for a success) and the violations.
 */
export function validateResponse(
  model: ServiceModel,
  operation: string,
  res: ModelResponse,
  options: ValidateOptions = {},
): { code?: string; errors: string[] } {
  const op = model.operations[operation]!;
  let parsed: unknown = {};
  if (res.body.trim() !== "") {
    try {
      parsed = JSON.parse(res.body);
    } catch {
      return { errors: [`${operation}: body is not JSON: ${res.body.slice(0, 200)}`] };
    }
  }
  if (res.status >= 200 && res.status < 300) {
    const shapeName = op.output?.shape;
    if (!shapeName) return { errors: [] };
    const shape = model.shapes[shapeName]!;
    const bodyOnly = Object.fromEntries(
      Object.entries(parsed as Record<string, unknown>).filter(([k]) => !shape.members?.[k]?.location),
    );
    return { errors: validateShape(model, shapeName, bodyOnly, operation, options) };
  }
  const record = (parsed ?? {}) as Record<string, unknown>;
  const raw = res.headers.get("x-amzn-errortype") ?? String(record.__type ?? record.code ?? "");
  const code = raw.split(":")[0]!.split("#").at(-1)!;
  const errors: string[] = [];
  const modelled = (op.errors ?? []).map((e) => e.shape);
  if (!modelled.includes(code)) {
    errors.push(
      `${operation}: error ${JSON.stringify(code)} (HTTP ${res.status}) is not one of ${modelled.join("|")}`,
    );
    return { code, errors };
  }
  const shape = model.shapes[code]!;
  if (shape.error?.httpStatusCode !== res.status)
    errors.push(
      `${operation}: ${code} answered HTTP ${res.status}, the model says ${shape.error?.httpStatusCode}`,
    );
  const { __type: _t, code: _c, ...members } = record;
  errors.push(...validateShape(model, code, members, `${operation}!${code}`, options));
  return { code, errors };
}
