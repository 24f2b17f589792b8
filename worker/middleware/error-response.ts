import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../env.ts";
import { ApiError, problemBody } from "../errors.ts";

/** Any error → the API's error shape. Compatibility routers override this with their envelopes. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    const detail =
      err.status === 415
        ? "The body must be JSON: send `Content-Type: application/json`."
        : err.message || "The request could not be processed.";
    return new ApiError(err.status as ConstructorParameters<typeof ApiError>[0], detail, { cause: err });
  }
  return new ApiError(500, "Something went wrong on our side; the request id identifies it in the logs.", { cause: err });
}

export function logUnexpected(c: Context<AppEnv>, err: unknown): void {
  // Only the error's own text: request bodies and headers may hold secrets.
  console.error(
    JSON.stringify({
      level: "error",
      msg: "unhandled error",
      request_id: c.var.requestId,
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      stack: err instanceof Error ? err.stack : undefined,
    }),
  );
}

export function problemResponse(c: Context<AppEnv>, err: unknown): Response {
  const apiError = toApiError(err);
  if (apiError.status >= 500 && !(err instanceof ApiError)) logUnexpected(c, err);
  for (const [name, value] of Object.entries(apiError.headers ?? {})) c.header(name, value);
  c.header("Content-Type", "application/problem+json");
  return c.body(JSON.stringify(problemBody(apiError, new URL(c.req.url).pathname)), apiError.status);
}
