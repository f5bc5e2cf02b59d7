import { randomUUID } from "node:crypto";

/** A response produced by the local account's own handlers. */
export interface LocalResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** EKS error names with their HTTP status, as the EKS API model defines them. */
export const EKS_ERRORS = {
  ResourceNotFoundException: 404,
  ResourceInUseException: 409,
  InvalidParameterException: 400,
  InvalidRequestException: 400,
  ResourceLimitExceededException: 400,
  ClientException: 400,
  ServerException: 500,
  ServiceUnavailableException: 503,
  TooManyRequestsException: 429,
  // TagResource / UntagResource / ListTagsForResource raise these two instead (model)
  BadRequestException: 400,
  NotFoundException: 404,
} as const;
export type EksErrorName = keyof typeof EKS_ERRORS;

/** Thrown by local EKS handlers; turned into a restJson error response. */
export class EksApiError extends Error {
  constructor(
    readonly code: EksErrorName,
    message: string,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
  }
}

/** A JSON response the way EKS (restJson1) sends it. */
export function jsonResponse(status: number, body: unknown): LocalResponse {
  return {
    status,
    headers: { "content-type": "application/json", "x-amzn-requestid": randomUUID() },
    body: JSON.stringify(body),
  };
}

/** An EKS error response: status from the model, `x-amzn-ErrorType` header, `message` in the body. */
export function eksError(
  code: EksErrorName,
  message: string,
  fields: Record<string, string> = {},
): LocalResponse {
  return {
    status: EKS_ERRORS[code],
    headers: {
      "content-type": "application/json",
      "x-amzn-errortype": code,
      "x-amzn-requestid": randomUUID(),
    },
    body: JSON.stringify({ message, ...fields }),
  };
}

/** An AWS query-protocol (IAM, STS) error response. */
export function queryError(status: number, code: string, message: string, type = "Sender"): LocalResponse {
  return {
    status,
    headers: { "content-type": "text/xml" },
    body:
      `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>${type}</Type>` +
      `<Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}

/** An awsJson (EventBridge, Step Functions) error response. */
export function awsJsonError(status: number, code: string, message: string): LocalResponse {
  return {
    status,
    headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID() },
    body: JSON.stringify({ __type: code, message }),
  };
}

/** Epoch seconds with milliseconds, the restJson timestamp format EKS uses. */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}
