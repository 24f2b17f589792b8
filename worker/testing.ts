// Helpers for the Worker tests (run inside workerd by @cloudflare/vitest-plugin). Requests go
// through SELF, the real Worker entry, with its real Durable Objects and the local libSQL server.
import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import { waitFor } from "../test/support/wait.ts";

let counter = 0;
/** A unique suffix per call, so tests sharing one database never collide. */
export const unique = (label = "t"): string =>
  `${label}${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** A client address per test, so the per-address rate limit of one test never throttles another. */
export const randomIp = (): string =>
  `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;

export interface CallOptions {
  method?: string;
  body?: unknown;
  rawBody?: string;
  token?: string;
  apiKey?: string;
  headers?: Record<string, string>;
  ip?: string;
}

export async function call(path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { "cf-connecting-ip": options.ip ?? randomIp(), ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.apiKey) headers["x-api-key"] = options.apiKey;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  return SELF.fetch(`http://pier.test${path}`, { method: options.method ?? (body !== undefined ? "POST" : "GET"), headers, body });
}

export async function json<T = any>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, `${res.status} ${text}`).toBe(status);
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface TestAccount {
  username: string;
  email: string;
  password: string;
  userId: string;
  organizationId: string;
  token: string;
  refreshToken: string;
  sessionId: string;
}

export async function login(
  loginName: string,
  password: string,
): Promise<{ access_token: string; refresh_token: string; session_id: string; user: any }> {
  return json(await call("/api/v1/auth/login", { body: { login: loginName, password } }), 200);
}

/** Makes a user through `path` (which answers the user with 201), and logs them in. */
async function newAccount(label: string, path: string, token: string | undefined, extra: Record<string, unknown>): Promise<TestAccount> {
  const username = unique(label);
  const email = `${username}@example.test`;
  const password = `pw-${unique()}`;
  const user = await json(await call(path, { token, body: { email, username, password, ...extra } }), 201);
  const session = await login(username, password);
  return {
    username,
    email,
    password,
    userId: user.id,
    organizationId: user.organization_id,
    token: session.access_token,
    refreshToken: session.refresh_token,
    sessionId: session.session_id,
  };
}

/** Registers a new user, who owns a new organization (open registration is on in tests), and logs in. */
export const newOwner = (label = "owner"): Promise<TestAccount> => newAccount(label, "/api/v1/auth/register", undefined, { name: label });

/** Adds a user with `role` to the organization of `admin`, and logs them in. */
export const addMember = (admin: TestAccount, role: "owner" | "admin" | "member" | "viewer"): Promise<TestAccount> =>
  newAccount(role, "/api/v1/users", admin.token, { role });

export async function expectProblem(res: Response, status: number, detail?: RegExp) {
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  const body = await json(res, status);
  expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  if (detail) expect(body.detail).toMatch(detail);
  return body;
}

/** Waits until the API shows the host in `status` (the relay mirrors presence asynchronously). */
export const waitForStatus = (account: TestAccount, hostId: string, status: string) =>
  waitFor(`host ${hostId} to be ${status}`, async () => {
    const host = await json(await call(`/api/v1/hosts/${hostId}`, { token: account.token }), 200);
    return host.status === status ? host : undefined;
  });
