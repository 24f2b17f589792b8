import { HTTPException } from "hono/http-exception";
import type { z } from "zod";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export interface FieldError {
  /** JSON pointer into the request: `/body/email`, `/query/limit`, `/path/id`. */
  pointer: string;
  detail: string;
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/**
 * The one error type of the API: carries an HTTP status and becomes an RFC 9457 problem document
 * in `onError`. Compatibility surfaces render the same error in their own envelopes.
 */
export class ApiError extends HTTPException {
  override readonly name: string = "ApiError";
  readonly detail: string;
  readonly errors?: FieldError[];
  readonly headers?: Record<string, string>;

  constructor(
    status: ContentfulStatusCode,
    detail: string,
    options: { errors?: FieldError[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(status, { message: detail, cause: options.cause });
    this.detail = detail;
    this.errors = options.errors;
    this.headers = options.headers;
  }

  get title(): string {
    return TITLES[this.status] ?? "Error";
  }
}

export const badRequest = (detail: string) => new ApiError(400, detail);
export const unauthorized = (detail = "Authentication required: send `Authorization: Bearer <token>` or `x-api-key: <key>`.") =>
  new ApiError(401, detail, { headers: { "WWW-Authenticate": 'Bearer realm="pier"' } });
export const forbidden = (detail: string) => new ApiError(403, detail);
export const notFound = (what: string) => new ApiError(404, `${what} was not found.`);
export const conflict = (detail: string) => new ApiError(409, detail);
export const invalid = (errors: FieldError[]) => new ApiError(422, errors.map((e) => `${e.pointer}: ${e.detail}`).join("; "), { errors });

export function problemBody(err: ApiError, instance?: string) {
  return {
    type: "about:blank",
    title: err.title,
    status: err.status,
    detail: err.detail,
    ...(instance ? { instance } : {}),
    ...(err.errors ? { errors: err.errors } : {}),
  };
}

const TARGET_POINTER: Record<string, string> = {
  json: "body",
  query: "query",
  param: "path",
  header: "header",
  form: "body",
  cookie: "cookie",
};

/** zod issues → one pointer per invalid field (`/body/email`), for the 422 problem document. */
export function fieldErrors(error: z.ZodError, target: string): FieldError[] {
  return error.issues.map((issue) => ({
    pointer: `/${TARGET_POINTER[target] ?? target}${issue.path.map((part) => `/${String(part).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("")}`,
    detail: issue.message,
  }));
}
