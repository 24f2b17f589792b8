// The one API client: openapi-fetch typed by the types generated from /openapi.json
// (test/generated/pier-api.ts, kept fresh by test/e2e/openapi.test.ts), so a renamed field breaks
// the build, not the user. The browser authenticates with the HttpOnly session cookie; mutating
// requests carry the CSRF token that the Worker set in the readable `pier_csrf` cookie.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "../../../test/generated/pier-api.ts";
import { ApiProblem } from "./problem.ts";

export type Schemas = components["schemas"];

export { ApiProblem } from "./problem.ts";

export function csrfToken(): string | undefined {
  for (const part of document.cookie.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === "pier_csrf") return decodeURIComponent(value.join("="));
  }
  return undefined;
}

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

const csrf: Middleware = {
  onRequest({ request }) {
    const token = csrfToken();
    if (MUTATING.has(request.method) && token) request.headers.set("X-CSRF-Token", token);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: "same-origin" });
api.use(csrf);

export async function problemOf(response: Response, body: unknown): Promise<ApiProblem> {
  const p = (body ?? {}) as { detail?: unknown; title?: unknown; errors?: unknown };
  const detail =
    typeof p.detail === "string" ? p.detail : typeof p.title === "string" ? p.title : `${response.status} ${response.statusText}`.trim();
  const errors = Array.isArray(p.errors) ? (p.errors as { pointer: string; detail: string }[]) : [];
  return new ApiProblem(response.status, detail, errors);
}

/** The data of an openapi-fetch result, or its problem thrown (queries and mutations both use it). */
export async function ok<T>(result: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await result;
  if (!response.ok) throw await problemOf(response, error);
  return data as T;
}

export const errorText = (err: unknown): string =>
  err instanceof ApiProblem ? err.detail : err instanceof Error ? err.message : String(err);

/** The API's message about one field of a rejected body (422 `errors[]`, pointer `/body/<field>`), to show beside it. */
export function fieldError(err: unknown, field: string): string | undefined {
  if (!(err instanceof ApiProblem)) return undefined;
  return err.errors.find((e) => e.pointer === `/body/${field}` || e.pointer.startsWith(`/body/${field}/`))?.detail;
}

/**
 * Sends a file as a request body (a tar to load or extract), with the CSRF header the typed client
 * adds; the browser streams the file, nothing is read into memory here. The API's problem is thrown.
 */
export async function sendFile<T>(method: "POST" | "PUT", url: string, file: Blob): Promise<T> {
  const headers: Record<string, string> = { "content-type": "application/x-tar" };
  const token = csrfToken();
  if (token) headers["X-CSRF-Token"] = token;
  const response = await fetch(url, { method, headers, body: file, credentials: "same-origin" });
  const body = await response.json().catch(() => undefined);
  if (!response.ok) throw await problemOf(response, body);
  return body as T;
}
