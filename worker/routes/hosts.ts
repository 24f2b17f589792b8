import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../env.ts";
import { PageQuery } from "../lib/pagination.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { type AgentInstall, agentInstall } from "../services/agent-install.ts";
import * as hostsService from "../services/hosts.ts";
import { agentPackage } from "../settings.ts";
import { authedRoute, createRouter, IdParam, jsonBody, jsonResponse, PageMeta, validationErrors } from "./openapi.ts";
import { publicBaseUrl } from "../settings.ts";

export const hostRoutes = createRouter();
hostRoutes.use("*", requireAuth());

export const HostName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "letters, digits, '.', '_' and '-', starting with a letter or digit");

const Counts = z.object({ total: z.number(), running: z.number(), paused: z.number(), stopped: z.number() });

export const HostView = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(["online", "disconnected", "lost", "never_connected"]),
    is_default: z.boolean(),
    last_seen_at: z.string().nullable(),
    connected_at: z.string().nullable(),
    disconnected_at: z.string().nullable(),
    agent_version: z.string().nullable(),
    engine_version: z.string().nullable(),
    hostname: z.string().nullable(),
    os: z.string().nullable(),
    arch: z.string().nullable(),
    addresses: z.array(z.string()),
    containers: Counts.nullable(),
    cpus: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "The engine's CPU count, as the agent last reported it: servers' CPU limits are checked against it." }),
    agent_token_prefix: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Host");

export const toHostView = (h: hostsService.HostRow): z.infer<typeof HostView> => ({
  id: h.id,
  name: h.name,
  status: hostsService.effectiveState(h),
  is_default: h.isDefault,
  last_seen_at: h.lastSeenAt,
  connected_at: h.connectedAt,
  disconnected_at: h.disconnectedAt,
  agent_version: h.agentVersion,
  engine_version: h.engineVersion,
  hostname: h.hostname,
  os: h.os,
  arch: h.arch,
  addresses: h.addresses ?? [],
  containers: h.containers ?? null,
  cpus: h.cpus ?? null,
  agent_token_prefix: h.agentTokenPrefix,
  created_at: h.createdAt,
  updated_at: h.updatedAt,
});

const Install = z
  .object({
    env: z.object({ PIER_URL: z.string(), PIER_AGENT_TOKEN: z.string() }),
    package: z.string().openapi({ description: "What npm installs: `pier-agent@<version>`, or PIER_AGENT_PACKAGE when set." }),
    npx: z.string().openapi({ description: "Run the agent with only Node.js 22 on the host (npx fetches the package)." }),
    npm: z.string().openapi({ description: "Run the agent from a checkout of Pier." }),
    docker: z
      .string()
      .openapi({ description: "Run the agent as a container (image built by scripts/images.sh or agent-relay/Dockerfile)." }),
    systemd: z.object({
      env_file: z.string(),
      unit: z.string().openapi({ description: "The unit file, as the first command installs it." }),
      commands: z.array(z.string()),
    }),
  })
  .openapi("AgentInstall");

const HostWithToken = HostView.extend({ agent_token: z.string().openapi({ description: "Shown this once." }), install: Install }).openapi(
  "HostWithToken",
);

/** The URL agents should dial: PIER_PUBLIC_URL when set (behind a proxy), else this request's origin. */
const publicUrl = (c: Context<AppEnv>): string => publicBaseUrl(c.env, c.req.url);

const installFor = (c: Context<AppEnv>, token: string): AgentInstall => agentInstall(publicUrl(c), token, agentPackage(c.env));

const HostId = IdParam("id", "hst_0123456789abcdefghij");

hostRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/",
    tags: ["hosts"],
    summary: "Register a host; returns its agent token (shown once) and ready install commands (owner/admin)",
    request: { body: jsonBody(z.object({ name: HostName }).openapi("NewHostRequest")) },
    responses: {
      201: jsonResponse(HostWithToken, "The host, its agent token and install commands."),
    },
    errors: ["validation", "conflict"],
  }),
  async (c) => {
    const { row, token } = await hostsService.createHost(c.var.db, authedActor(c), c.req.valid("json"));
    return c.json({ ...toHostView(row), agent_token: token, install: installFor(c, token) }, 201);
  },
);

hostRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["hosts"],
    summary: "Hosts of your organization with their status",
    request: { query: PageQuery },
    responses: {
      200: jsonResponse(PageMeta.extend({ hosts: z.array(HostView) }), "A page of hosts, newest first."),
      400: validationErrors[400],
      422: validationErrors[422],
    },
  }),
  async (c) => {
    const page = await hostsService.listHosts(c.var.db, c.var.principal.organizationId, c.req.valid("query"));
    return c.json({ hosts: page.items.map(toHostView), next_cursor: page.nextCursor }, 200);
  },
);

hostRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}",
    tags: ["hosts"],
    summary: "One host with its status, versions, addresses and container counts",
    request: { params: HostId },
    responses: { 200: jsonResponse(HostView, "The host.") },
    errors: ["notFound"],
  }),
  async (c) => c.json(toHostView(await hostsService.getHost(c.var.db, c.var.principal.organizationId, c.req.valid("param").id)), 200),
);

hostRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{id}",
    tags: ["hosts"],
    summary: "Delete a host: its agent token stops working and the agent is dropped (owner/admin)",
    request: { params: HostId },
    responses: { 204: { description: "Deleted." } },
    errors: ["notFound"],
  }),
  async (c) => {
    await hostsService.deleteHost(c.var.db, c.env, authedActor(c), c.req.valid("param").id);
    return c.body(null, 204);
  },
);

hostRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{id}/rotate-token",
    tags: ["hosts"],
    summary: "Issue a new agent token; the old one stops working and its agent is dropped (owner/admin)",
    request: { params: HostId },
    responses: { 200: jsonResponse(HostWithToken, "The host with its new token.") },
    errors: ["notFound"],
  }),
  async (c) => {
    const { row, token } = await hostsService.rotateAgentToken(c.var.db, c.env, authedActor(c), c.req.valid("param").id);
    return c.json({ ...toHostView(row), agent_token: token, install: installFor(c, token) }, 200);
  },
);
