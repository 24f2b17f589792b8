// Compatibility with the multi-host Docker management API (seed 001): `{success, data}` and
// `{success: false, message}` envelopes, except `/login` and `/token/renew_access`, which answer
// bare objects. Validation failures are 400 there, as the document says.
import { Hono, type Context } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { ContainerRef, type OpName, type OpResult, type StatsSample } from "#protocol";
import { classic } from "../lib/protocol-schema.ts";
import type { CommandOutcome } from "../durable/host-relay.ts";
import { ApiError } from "../errors.ts";
import { formatMemory, formatNetwork } from "../lib/human-size.ts";
import { requireAuth } from "../middleware/auth.ts";
import { pipeEvents } from "../services/events.ts";
import { maskEnvBelowAdmin } from "../services/containers.ts";
import { allHosts, getHostByName } from "../services/hosts.ts";
import type { AppEnv } from "../env.ts";
import { actorOf, authedActor, loginGuardsOf } from "../middleware/request-context.ts";
import * as accounts from "../services/accounts.ts";
import { requireRole } from "../services/principal.ts";
import { authSettings } from "../settings.ts";
import { rfc3339Seconds, sqlDateTime } from "../lib/time.ts";
import { DisplayName, Email, Password, Username } from "../services/fields.ts";
import { refuseProjectScoped } from "../services/permissions.ts";
import { readJson } from "./validate.ts";

export const dockerApiCompat = new Hono<AppEnv>();

const NewUser = z.object({ username: Username, password: Password, full_name: DisplayName, email: Email });
const RefreshToken = z.object({ refresh_token: z.string().min(1).max(4096) });

dockerApiCompat.post("/user", async (c) => {
  const body = await readJson(c, NewUser);
  const input = { email: body.email, username: body.username, password: body.password, name: body.full_name };
  const p = c.var.principal;
  // Credentials add the user to the caller's organization (admins only, as POST /api/v1/users);
  // without them this is self-registration (the first user, or open registration).
  const account = p
    ? await accounts.addUser(c.var.db, authedActor(c), { ...input, role: "member" })
    : await accounts.register(c.var.db, authSettings(c.env), actorOf(c), input);
  return c.json({
    success: true,
    data: {
      username: account.user.username,
      full_name: account.user.name,
      email: account.user.email,
      created_at: sqlDateTime(account.user.createdAt),
    },
  });
});

dockerApiCompat.post("/login", async (c) => {
  const body = await readJson(c, z.object({ username: z.string().min(1).max(254), password: z.string().min(1).max(256) }));
  const s = await accounts.login(c.var.db, loginGuardsOf(c), authSettings(c.env), actorOf(c), body.username, body.password);
  return c.json({
    session_id: s.sessionId,
    access_token: s.accessToken,
    access_token_expires_at: s.accessTokenExpiresAt,
    refresh_token: s.refreshToken,
    refresh_token_expires_at: s.refreshTokenExpiresAt,
    user: {
      username: s.account.user.username,
      email: s.account.user.email,
      password_changed_at: rfc3339Seconds(s.account.user.passwordChangedAt),
      created_at: rfc3339Seconds(s.account.user.createdAt),
    },
  });
});

dockerApiCompat.post("/logout", async (c) => {
  const body = await readJson(c, RefreshToken);
  await accounts.logoutWithRefreshToken(c.var.db, c.var.credentials, authSettings(c.env), actorOf(c), body.refresh_token);
  return c.json({ success: true, data: "logged out successfully" });
});

dockerApiCompat.post("/token/renew_access", async (c) => {
  const body = await readJson(c, RefreshToken);
  const renewed = await accounts.renewAccess(c.var.db, authSettings(c.env), body.refresh_token);
  return c.json({ access_token: renewed.accessToken, access_token_expires_at: renewed.accessTokenExpiresAt });
});

// ---- Docker endpoints, through the relay agents --------------------------------------------

const round2 = (n: number) => Math.round(n * 100) / 100;

function statView(id: string, name: string, sample?: StatsSample) {
  return {
    id: id.slice(0, 12),
    name,
    cpu_percent: round2(sample?.cpu_percent ?? 0),
    memory_usage: formatMemory(sample?.memory_usage ?? 0),
    memory_limit: formatMemory(sample?.memory_limit ?? 0),
    memory_percent: round2(sample?.memory_percent ?? 0),
    network_rx: formatNetwork(sample?.net_rx ?? 0),
    network_tx: formatNetwork(sample?.net_tx ?? 0),
  };
}

/** The engine's own wording, as the document's error examples show it. */
const daemonMessage = (message: string) =>
  message.startsWith("Error response from daemon") ? message : `Error response from daemon: ${message}`;

/** This surface knows 200, 400 and 500 (plus 401/404 for Pier's credentials and host names). */
async function onHost<O extends OpName>(
  c: Context<AppEnv>,
  hostName: string,
  op: O,
  args: unknown,
  timeoutMs?: number,
): Promise<OpResult<O>> {
  const host = await getHostByName(c.var.db, c.var.principal.organizationId, hostName);
  const outcome = (await c.env.HOST_RELAY.getByName(host.id).command(op, args, timeoutMs ? { timeoutMs } : {})) as CommandOutcome;
  if (outcome.ok) return outcome.data as OpResult<O>;
  const engine = outcome.error.status !== undefined || ["not_found", "conflict", "bad_request"].includes(outcome.error.code);
  throw new ApiError(outcome.error.http < 500 ? 400 : 500, engine ? daemonMessage(outcome.error.message) : outcome.error.message);
}

dockerApiCompat.use("/hosts", requireAuth());
dockerApiCompat.get("/hosts", async (c) => {
  const rows = await allHosts(c.var.db, c.var.principal.organizationId);
  return c.json({
    success: true,
    data: rows.map((h) => ({ host: h.name, addr: `pier-agent://${h.addresses?.[0] ?? h.hostname ?? h.id}` })),
  });
});

// A host's containers are every project's: refused to project-scoped members, as the canonical
// /api/v1/hosts/{id}/… is.
for (const path of ["/ps2/*", "/inspect2/*", "/start2", "/stop2", "/stat2/*", "/stat3/*"])
  dockerApiCompat.use(path, requireAuth(), refuseProjectScoped("A host's Docker API"));

dockerApiCompat.get("/ps2/:host", async (c) => {
  const list = await onHost(c, c.req.param("host"), "container.list", { all: true });
  return c.json({
    success: true,
    data: list.map((s) => ({
      id: s.Id.slice(0, 12),
      name: (s.Names[0] ?? "").replace(/^\//, ""),
      image: s.Image,
      state: s.State,
      status: s.Status,
    })),
  });
});

// biome-ignore lint/suspicious/noExplicitAny: the Engine's inspect documents, passed through as the daemon wrote them
type Json = Record<string, any>;

dockerApiCompat.get("/inspect2/:host/:id", async (c) => {
  const d = maskEnvBelowAdmin(
    c.var.principal,
    await onHost(c, c.req.param("host"), "container.inspect", { id: c.req.param("id") }),
  ) as Json;
  const state = d.State ?? {};
  const config = d.Config ?? {};
  const net = d.NetworkSettings ?? {};
  const ports: Record<string, Array<{ host_ip: string; host_port: string }>> = {};
  for (const [port, bindings] of Object.entries((net.Ports ?? {}) as Record<string, Array<{ HostIp: string; HostPort: string }> | null>)) {
    ports[port] = (bindings ?? []).map((b) => ({ host_ip: b.HostIp, host_port: b.HostPort }));
  }
  const networks: Record<string, Json> = {};
  for (const [name, n] of Object.entries((net.Networks ?? {}) as Record<string, Json>)) {
    networks[name] = {
      network_id: n.NetworkID ?? "",
      ip_address: n.IPAddress ?? "",
      gateway: n.Gateway ?? "",
      mac_address: n.MacAddress ?? "",
    };
  }
  const primary = Object.values(networks)[0];
  return c.json({
    success: true,
    data: {
      id: d.Id,
      name: d.Name,
      image: d.Image,
      created: d.Created,
      platform: d.Platform,
      restart_count: d.RestartCount ?? 0,
      state: {
        status: state.Status,
        running: state.Running,
        paused: state.Paused,
        restarting: state.Restarting,
        exit_code: state.ExitCode,
        started_at: state.StartedAt,
        finished_at: state.FinishedAt,
      },
      config: {
        hostname: config.Hostname ?? "",
        user: config.User ?? "",
        env: config.Env ?? [],
        cmd: config.Cmd ?? [],
        entrypoint: config.Entrypoint ?? [],
        working_dir: config.WorkingDir ?? "",
        labels: config.Labels ?? {},
      },
      network: {
        ip_address: net.IPAddress || primary?.ip_address || "",
        gateway: net.Gateway || primary?.gateway || "",
        mac_address: net.MacAddress || primary?.mac_address || "",
        ports,
        networks,
      },
      mounts: ((d.Mounts ?? []) as Json[]).map((m) => ({
        type: m.Type,
        name: m.Name ?? "",
        source: m.Source,
        destination: m.Destination,
        mode: m.Mode,
        rw: m.RW,
      })),
    },
  });
});

const StartStop = z.object({ id: classic(ContainerRef), host: z.string().min(1).max(63) });

for (const action of ["start", "stop"] as const) {
  dockerApiCompat.post(`/${action}2`, async (c) => {
    // The role the canonical POST /api/v1/hosts/{id}/containers/{cid}/start|stop asks for.
    requireRole(c.var.principal, "member", `${action} containers`);
    const body = await readJson(c, StartStop);
    const result = await onHost(c, body.host, `container.${action}`, { id: body.id });
    // Docker's 304 (already started / not running) is an error on this surface, as documented.
    if (!result.changed) throw new ApiError(400, daemonMessage(action === "start" ? "container already started" : "container not running"));
    return c.json("");
  });
}

dockerApiCompat.get("/stat2/:host/:id", async (c) => {
  const sample = await onHost(c, c.req.param("host"), "container.stats", { id: c.req.param("id") });
  return c.json({ success: true, data: statView(sample.id, sample.name, sample.read_at ? sample : undefined) });
});

/** Three seconds for the whole answer, as documented; what is not in by then is reported idle. */
const STAT3_BUDGET_MS = 3_000;

dockerApiCompat.get("/stat3/:host", async (c) => {
  const started = Date.now();
  const list = await onHost(c, c.req.param("host"), "container.list", { all: true }, STAT3_BUDGET_MS);
  const remaining = Math.max(250, STAT3_BUDGET_MS - (Date.now() - started));
  const samples = new Map<string, StatsSample>();
  try {
    for (const s of (await onHost(c, c.req.param("host"), "stats.all", {}, remaining)).samples) samples.set(s.id, s);
  } catch {
    // Past the budget (or failing), return what we have: containers without a sample read zero.
  }
  const data: Record<string, ReturnType<typeof statView>> = {};
  for (const s of list) {
    const name = (s.Names[0] ?? "").replace(/^\//, "");
    data[s.Id.slice(0, 12)] = statView(s.Id, name, s.State === "running" ? samples.get(s.Id) : undefined);
  }
  return c.json({ success: true, data });
});

dockerApiCompat.get("/events", requireAuth({ allowQueryToken: true }), refuseProjectScoped("The Docker event stream"), (c) =>
  streamSSE(c, (sse) =>
    pipeEvents(c.env, c.var.principal.organizationId, {}, sse, (e) =>
      sse.writeSSE({
        event: "container-event",
        data: JSON.stringify({
          host: e.host_name,
          type: e.type,
          action: e.action,
          actor_id: e.id,
          actor_name: e.attributes.name ?? "",
          timestamp: Math.floor(e.time / 1000),
          attrs: e.attributes,
        }),
      }),
    ),
  ),
);
