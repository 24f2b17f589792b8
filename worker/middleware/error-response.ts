import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { surfaceOf } from "../compat/envelopes.ts";
import type { AppEnv } from "../env.ts";
import { ApiError, problemBody } from "../errors.ts";
import { errorLogFields } from "../db/errors.ts";

/** Any error → the API's error type. An unexpected one becomes a 500 that names the request id to report. */
export function toApiError(err: unknown, requestId?: string): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    const detail =
      err.status === 415
        ? "The body must be JSON: send `Content-Type: application/json`."
        : err.message || "The request could not be processed.";
    return new ApiError(err.status as ConstructorParameters<typeof ApiError>[0], detail, { cause: err });
  }
  const ref = requestId ? ` (request id ${requestId})` : "";
  return new ApiError(
    500,
    `Pier failed unexpectedly while handling this request${ref}; the error and its stack are in the server log under that id. Retry; if it keeps failing, report the request id.`,
    { cause: err },
  );
}

/** Every 5xx is logged with its stack: the answer says what happened, the log says where. */
function logServerError(c: Context<AppEnv>, err: unknown, apiError: ApiError): void {
  const cause = err instanceof ApiError && err.cause !== undefined ? err.cause : err;
  // Only the error's own text: request bodies and headers may hold secrets.
  console.error(
    JSON.stringify({
      level: "error",
      msg: err instanceof ApiError || err instanceof HTTPException ? "server error" : "unhandled error",
      request_id: c.var.requestId,
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      status: apiError.status,
      detail: apiError.detail,
      // A failed query's message and stack carry its parameter values: only its SQL and cause.
      ...errorLogFields(cause),
    }),
  );
}

/**
 * The app's one error handler: the error in the envelope of the surface the path belongs to
 * (worker/compat/envelopes.ts), or an RFC 9457 problem document for the canonical API.
 */
export function renderError(err: unknown, c: Context<AppEnv>): Response {
  const apiError = toApiError(err, c.var.requestId);
  if (apiError.status >= 500) logServerError(c, err, apiError);
  for (const [name, value] of Object.entries(apiError.headers ?? {})) c.header(name, value);
  const path = new URL(c.req.url).pathname;
  const surface = surfaceOf(path);
  if (surface) return surface.render(c, apiError);
  c.header("Content-Type", "application/problem+json");
  return c.body(JSON.stringify(problemBody(apiError, path)), apiError.status);
}
