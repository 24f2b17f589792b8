// A small client for the end-to-end tests: the public HTTP API of the stack that `npm start`
// runs (see test/setup/e2e-global-setup.ts), plus helpers to attach real agents.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { inject } from "vitest";
import { startAgent, type RunningAgent } from "../../agent-relay/src/agent.ts";
import type { LogRecord } from "../../agent-relay/src/log.ts";
import { waitFor } from "../support/wait.ts";

export { readSse, type SseEvent, SseStream } from "../support/sse.ts";
export { waitFor };

export const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const TEST_IMAGE = "pier-test/busybox:latest";

export const pierUrl = (): string => inject("pierUrl");
export const dockerAvailable = (): boolean => inject("dockerAvailable");

let counter = 0;
export const unique = (label: string) => `${label}-${process.pid}-${Date.now().toString(36)}-${counter++}`;

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function api<T = any>(
  path: string,
  options: { method?: string; token?: string; body?: unknown; headers?: Record<string, string>; url?: string } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${options.url ?? pierUrl()}${path}`, {
    method: options.method ?? (options.body !== undefined ? "POST" : "GET"),
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body: body as T };
}

export interface Owner {
  token: string;
  username: string;
  password: string;
  organizationId: string;
}

export async function newOwner(label = "owner"): Promise<Owner> {
  const username = unique(label);
  const password = "e2e-password";
  const reg = await api("/api/v1/auth/register", { body: { username, email: `${username}@example.test`, password } });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
  const login = await api("/api/v1/auth/login", { body: { login: username, password } });
  return { token: login.body.access_token, username, password, organizationId: reg.body.organization_id };
}

export type UserRole = "viewer" | "member" | "admin";

/** A user of the owner's organization with this role, signed in: their access token. */
export async function addUser(owner: Owner, role: UserRole, username = unique(role)): Promise<string> {
  const password = `${role}-password`;
  const created = await api("/api/v1/users", {
    token: owner.token,
    body: { username, email: `${username}@example.test`, password, role },
  });
  if (created.status !== 201) throw new Error(`create ${role}: ${created.status} ${JSON.stringify(created.body)}`);
  const login = await api("/api/v1/auth/login", { body: { login: username, password } });
  if (login.status !== 200) throw new Error(`sign in as ${role}: ${login.status} ${JSON.stringify(login.body)}`);
  return login.body.access_token;
}

export interface Roles {
  owner: Owner;
  /** Access tokens of a member and a viewer of the owner's organization. */
  member: string;
  viewer: string;
}

/** A new organization with its owner, a member and a viewer: for the tests of who may do what. */
export async function withRoles(label = "owner"): Promise<Roles> {
  const owner = await newOwner(label);
  return { owner, member: await addUser(owner, "member"), viewer: await addUser(owner, "viewer") };
}

export type NewHost = { id: string; name: string; agent_token: string; install: { npm: string; docker: string } };

export async function newHost(owner: Owner, name = unique("host")): Promise<NewHost> {
  const res = await api("/api/v1/hosts", { token: owner.token, body: { name } });
  if (res.status !== 201) throw new Error(`create host: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as NewHost;
}

export interface TestAgent {
  agent: RunningAgent;
  logs: LogRecord[];
}

export type AgentOptions = Partial<Parameters<typeof startAgent>[0]>;

export function attachAgent(token: string, options: AgentOptions = {}): TestAgent {
  const logs: LogRecord[] = [];
  const agent = startAgent({ url: pierUrl(), token, onLog: (r) => logs.push(r), logLevel: "debug", ...options });
  return { agent, logs };
}

/**
 * A new host of the owner's organization with a real agent (in this process) attached, once the
 * API reports it online. Stop the agent in the suite's afterAll: `await agent?.agent.stop()`.
 */
export async function onlineHost(
  owner: Owner,
  options: { name?: string; agent?: AgentOptions } = {},
): Promise<{ host: NewHost; agent: TestAgent }> {
  const host = await newHost(owner, options.name);
  const agent = attachAgent(host.agent_token, options.agent);
  try {
    await waitForStatus(owner, host.id, "online");
  } catch (error) {
    await agent.agent.stop();
    throw error;
  }
  return { host, agent };
}

const TASK_ENDED = ["succeeded", "failed", "cancelled"];

/**
 * Waits for a host task to end and returns it, as `token` reads it. The guard is generous: a
 * compose up or an image push on a machine loaded by other suites has taken over 30 s.
 */
export const taskEnd = (token: string, id: string, timeout = 90_000) =>
  waitFor(
    `task ${id} to end`,
    async () => {
      const res = await api(`/api/v1/tasks/${id}`, { token });
      return TASK_ENDED.includes(res.body.status) ? res.body : undefined;
    },
    { timeout },
  );

export interface AuditEvent {
  action: string;
  target_type: string;
  target_id: string;
  metadata: Record<string, unknown>;
}

/** The organization's latest audit events (newest first), only those of `action` when given. */
export async function auditEvents(owner: Owner, action?: string): Promise<AuditEvent[]> {
  const res = await api("/api/v1/audit-events?limit=100", { token: owner.token });
  if (res.status !== 200) throw new Error(`audit events: ${res.status} ${JSON.stringify(res.body)}`);
  const events = res.body.audit_events as AuditEvent[];
  return action === undefined ? events : events.filter((e) => e.action === action);
}

/** The agent as a separate process, the way hosts run it (signals reach it: SIGKILL, SIGSTOP). */
export function spawnAgent(token: string, url = pierUrl()): ChildProcess & { output: () => string } {
  let output = "";
  // `npm run agent` is `node agent-relay/src/main.ts` (Node strips the types itself): the same
  // entry, without npm in between, whose signals would reach npm rather than the agent. (The
  // bundle hosts install, dist/pier-agent.js, runs in agent-package.test.ts and agent-image.test.ts.)
  const child = spawn(process.execPath, ["agent-relay/src/main.ts"], {
    cwd: ROOT,
    env: { ...process.env, PIER_URL: url, PIER_AGENT_TOKEN: token, PIER_LOG_LEVEL: "debug" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  return Object.assign(child, { output: () => output });
}

/**
 * Waits for the host's status as the API reports it. The guard is generous: an agent reconnects
 * with backoff and jitter, and on a loaded machine its process can take half a minute to start.
 */
export const waitForStatus = (owner: Owner, hostId: string, status: string) =>
  waitFor(
    `host ${hostId} to be ${status}`,
    async () => {
      const res = await api(`/api/v1/hosts/${hostId}`, { token: owner.token });
      return res.body?.status === status ? res.body : undefined;
    },
    { timeout: 120_000, interval: 200 },
  );

/** `docker` CLI, for arranging and checking state independently of Pier. */
export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run("docker", args, { timeout: 60_000 });
  return stdout.trim();
}

export async function removeContainers(label: string): Promise<void> {
  const ids = await docker("ps", "-aq", "--filter", `label=${label}`);
  if (ids) await docker("rm", "-f", ...ids.split("\n"));
}
