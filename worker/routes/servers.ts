import { z } from "@hono/zod-openapi";
import { SERVER_STATUSES } from "../db/schema.ts";
import { PageQuery } from "../lib/pagination.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import * as lifecycle from "../services/server-lifecycle.ts";
import * as roles from "../services/server-roles.ts";
import {
  BulkNetworkConfig,
  Command,
  Cpu,
  DiskGb,
  EnvMap,
  MemoryMb,
  RoleInput,
  RoleName,
  RolePatch,
  ServerCreateInput,
  ServerName,
  ServerPortSchema,
  DataPath,
} from "../services/server-fields.ts";
import { getServer, pageServers, serverDisksOf, serverScope, toServerView, type ServerRow } from "../services/servers.ts";
import { ImageRef } from "../services/fields.ts";
import { authedRoute, createRouter, jsonBody, jsonResponse, PageMeta, queryBool } from "./openapi.ts";
import { TaskStarted, TaskView, toTaskView } from "./tasks.ts";
import type { TaskRow } from "../services/tasks.ts";

// Servers (issue 13): managed long-running containers with a role, limits, a data volume and an
// address, and the organization's catalog of roles. Long operations answer 202 with a task.

export const serverRoutes = createRouter();
serverRoutes.use("*", requireAuth());
export const serverRoleRoutes = createRouter();
serverRoleRoutes.use("*", requireAuth());

const ServerView = z
  .object({
    id: z.string(),
    alias: z.number().int().openapi({ description: "The seed documents' numeric id; unique in the organization." }),
    name: z.string(),
    host_id: z.string().nullable(),
    project_id: z.string().nullable(),
    role: z.string().nullable(),
    image: z.string(),
    cpu: z.number().nullable(),
    memory_mb: z.number().int().nullable(),
    disk_gb: z.number().int().nullable(),
    ip_address: z.string().nullable(),
    network_id: z.string().nullable(),
    network_name: z.string().nullable(),
    volume_name: z.string(),
    container_id: z.string().nullable(),
    container_name: z.string(),
    status: z.enum(SERVER_STATUSES),
    last_error: z.string().nullable(),
    task_id: z.string().nullable(),
    config: z.record(z.string(), z.unknown()),
    has_env: z.boolean(),
    created_by: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Server");

const RoleView = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    image: z.string(),
    command: z.array(z.string()).nullable(),
    ports: z.array(ServerPortSchema),
    health_check: z.record(z.string(), z.unknown()).nullable(),
    data_path: z.string(),
    firewall_groups: z.array(z.string()),
    env_keys: z.array(z.string()).openapi({ description: "The names of the role's environment variables (their values are never shown)." }),
    builtin: z.boolean(),
    servers: z.number().int().optional(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("ServerRole");

const ServerRef = z.object({
  ref: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "ref", in: "path" }, example: "web-server-01", description: "The server's id, alias, IP address or name." }),
});
const Refs = z
  .array(z.union([z.string().min(1).max(64), z.number().int().min(1)]))
  .min(1)
  .max(100)
  .openapi({ description: "Servers by id, alias, IP address or name." });

const ServerTaskStarted = TaskStarted.extend({ servers: z.array(ServerView) }).openapi("ServerTaskStarted");
const started = (task: TaskRow, rows: ServerRow[]) => ({ task_id: task.id, task: toTaskView(task), servers: rows.map(toServerView) });

const actor = authedActor;

// ---- list, create ----------------------------------------------------------------------------------

serverRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["servers"],
    summary: "Servers of your organization, newest first (filters: status, role, host_id, project_id)",
    request: {
      query: PageQuery.extend({
        status: z.enum(SERVER_STATUSES).optional(),
        role: z.string().max(40).optional(),
        host_id: z.string().max(64).optional(),
        project_id: z.string().max(64).optional(),
      }),
    },
    responses: { 200: jsonResponse(PageMeta.extend({ servers: z.array(ServerView) }), "A page of servers.") },
    errors: ["validation"],
  }),
  async (c) => {
    const q = c.req.valid("query");
    const p = c.var.principal;
    const page = await pageServers(
      c.var.db,
      p.organizationId,
      { status: q.status, role: q.role, hostId: q.host_id, projectId: q.project_id, ...(await serverScope(c.var.db, p)) },
      q,
    );
    return c.json({ servers: page.items.map(toServerView), next_cursor: page.nextCursor }, 200);
  },
);

serverRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/",
    tags: ["servers"],
    summary: "Create a server, as a task: 202 with its task_id (create_server)",
    description:
      "From a role's template (image, command, ports, health check, data path) or an explicit image. `cpu` → the container's CPU limit, `memory_mb` → its memory limit, `disk_gb` → its data volume's size (a quota where the storage driver allows one, otherwise reported against usage). `network` {subnet, gateway, ip_address} puts it on a user-defined bridge network for that subnet with a static address.",
    request: { body: jsonBody(ServerCreateInput) },
    responses: { 202: jsonResponse(ServerTaskStarted, "The create task and the server (status creating).") },
    errors: ["validation", "notFound", "conflict", "relay"],
  }),
  async (c) => {
    const { task, servers } = await lifecycle.createServers(c.var.db, c.env, actor(c), {
      servers: [c.req.valid("json")],
      pointer: { servers: "/body", network: "/body/network" },
    });
    return c.json(started(task, servers), 202);
  },
);

const BulkCreate = z
  .object({
    servers: z.array(ServerCreateInput).min(1).max(100).optional(),
    count: z.number().int().min(1).max(100).optional(),
    name_prefix: ServerName.optional(),
    template: z
      .object({
        role: RoleName.nullable().optional(),
        image: ImageRef.optional(),
        cpu: Cpu.optional(),
        memory_mb: MemoryMb.optional(),
        disk_gb: DiskGb.optional(),
        command: Command.optional(),
        env: EnvMap.optional(),
        ports: z.array(ServerPortSchema).max(20).optional(),
        project_id: z.string().max(64).nullable().optional(),
      })
      .optional(),
    host_id: z.string().min(1).max(64).optional(),
    network: BulkNetworkConfig.optional(),
  })
  .refine((b) => (b.servers ? b.count === undefined : b.count !== undefined && b.name_prefix !== undefined), {
    message: "give `servers` (a list), or `count` with `name_prefix` (and a `template`)",
    path: ["servers"],
  })
  .refine((b) => !b.count || b.template?.role || b.template?.image, {
    message: "the template needs a role or an image",
    path: ["template"],
  })
  .openapi("ServerBulkCreate");

serverRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/bulk",
    tags: ["servers"],
    summary: "Create many servers as one task, with addresses handed out from network.ip_range in order (create_server)",
    request: { body: jsonBody(BulkCreate) },
    responses: { 202: jsonResponse(ServerTaskStarted, "The task and the servers (status creating).") },
    errors: ["validation", "notFound", "conflict", "relay"],
  }),
  async (c) => {
    const b = c.req.valid("json");
    const list =
      b.servers ??
      lifecycle.numberedNames(b.name_prefix!, b.count!).map((name) => ({ ...b.template, name }) as z.infer<typeof ServerCreateInput>);
    const { task, servers } = await lifecycle.createServers(c.var.db, c.env, actor(c), {
      servers: list,
      network: b.network,
      hostId: b.host_id,
      pointer: { servers: "/body/servers", network: "/body/network", ...(b.servers ? {} : { template: "/body/template" }) },
    });
    return c.json(started(task, servers), 202);
  },
);

serverRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/bulk-actions",
    tags: ["servers"],
    summary: "Start, stop, reboot or delete many servers as one task (manage_servers)",
    request: {
      body: jsonBody(
        z.object({
          action: z.enum(["start", "stop", "reboot", "delete"]),
          servers: Refs,
          keep_data: z.boolean().optional().openapi({ description: "delete: keep the data volumes." }),
        }),
      ),
    },
    responses: { 202: jsonResponse(ServerTaskStarted, "The task.") },
    errors: ["validation", "notFound", "conflict", "relay"],
  }),
  async (c) => {
    const b = c.req.valid("json");
    const out =
      b.action === "delete"
        ? await lifecycle.deleteServers(c.var.db, c.env, actor(c), b.servers, { keepData: b.keep_data })
        : await lifecycle.serverAction(c.var.db, c.env, actor(c), b.servers, b.action);
    return c.json(started(out.task, out.servers), 202);
  },
);

const SyncReport = z
  .object({
    servers: z.array(ServerView),
    changes: z.array(z.object({ server_id: z.string(), name: z.string(), from: z.string(), to: z.string() })),
    missing: z.array(z.string()),
    orphans: z.array(
      z.object({ host_id: z.string(), container_id: z.string(), container_name: z.string(), server_id: z.string(), state: z.string() }),
    ),
    hosts: z.array(z.object({ host_id: z.string(), name: z.string(), state: z.string(), checked: z.boolean() })),
  })
  .openapi("ServerSyncReport");

serverRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/sync",
    tags: ["servers"],
    summary:
      "Reconcile servers against what each host runs: a missing container is an error, labelled containers without a server are reported (manage_servers)",
    responses: { 200: jsonResponse(SyncReport, "What changed and what was found.") },
  }),
  async (c) => {
    const r = await lifecycle.syncServers(c.var.db, c.env, actor(c));
    return c.json({ ...r, servers: r.servers.map(toServerView) }, 200);
  },
);

const FailedView = z
  .object({
    server: ServerView,
    reasons: z.array(z.string()),
    task: z.object({ id: z.string(), status: z.string(), message: z.string().nullable() }).nullable(),
  })
  .openapi("FailedServer");

serverRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/failed",
    tags: ["servers"],
    summary: "Failed servers (a failed create, a dead or missing container, a deleted host) and why",
    responses: { 200: jsonResponse(z.object({ servers: z.array(FailedView) }), "The failed servers.") },
  }),
  async (c) => {
    const list = await lifecycle.failedServerList(c.var.db, c.env, c.var.principal);
    return c.json({ servers: list.map((f) => ({ ...f, server: toServerView(f.server) })) }, 200);
  },
);

serverRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/cleanup",
    tags: ["servers"],
    summary: "Clean failed servers up (the named ones, or every failed one): containers, volumes unless keep_data, rows (manage_servers)",
    request: {
      body: jsonBody(
        z.object({
          servers: Refs.optional().openapi({ description: "Omit for every failed server." }),
          keep_data: z.boolean().optional(),
          force: z.boolean().optional().openapi({ description: "Clean named servers even if they have not failed." }),
        }),
      ),
    },
    responses: {
      202: jsonResponse(ServerTaskStarted, "The cleanup task."),
      200: jsonResponse(z.object({ task_id: z.null(), servers: z.array(ServerView) }), "Nothing to clean."),
    },
    errors: ["validation", "notFound", "conflict"],
  }),
  async (c) => {
    const b = c.req.valid("json");
    const out = await lifecycle.cleanServers(c.var.db, c.env, actor(c), b.servers ?? "failed", { keepData: b.keep_data, force: b.force });
    if (!out.task) return c.json({ task_id: null, servers: [] }, 200);
    return c.json(started(out.task, out.servers), 202);
  },
);

serverRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/datastores",
    tags: ["servers"],
    summary:
      "Each host's storage driver (and whether it can enforce a size quota), volume drivers with usage, and servers' volumes against disk_gb",
    responses: { 200: jsonResponse(z.object({ datastores: z.array(z.record(z.string(), z.unknown())) }), "Per host.") },
  }),
  async (c) => c.json({ datastores: await lifecycle.datastores(c.var.db, c.env, c.var.principal) }, 200),
);

// ---- one server ----------------------------------------------------------------------------------------

const one = async (c: { var: { db: Parameters<typeof getServer>[0]; principal: Parameters<typeof serverScope>[1] } }, ref: string) =>
  getServer(c.var.db, c.var.principal.organizationId, ref, await serverScope(c.var.db, c.var.principal));

serverRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{ref}",
    tags: ["servers"],
    summary: "A server, by id, alias, IP address or name",
    request: { params: ServerRef },
    responses: { 200: jsonResponse(ServerView, "The server.") },
    errors: ["notFound"],
  }),
  async (c) => c.json(toServerView(await one(c, c.req.valid("param").ref)), 200),
);

serverRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{ref}/status",
    tags: ["servers"],
    summary: "A server with its status read from its container now",
    request: { params: ServerRef },
    responses: { 200: jsonResponse(ServerView.extend({ host_reachable: z.boolean() }), "The server.") },
    errors: ["notFound"],
  }),
  async (c) => {
    const row = await one(c, c.req.valid("param").ref);
    const r = await lifecycle.refreshStatuses(c.var.db, c.env, c.var.principal.organizationId, [row]);
    return c.json({ ...toServerView(r.rows[0]!), host_reachable: r.unreachable.length === 0 }, 200);
  },
);

for (const action of lifecycle.SERVER_ACTIONS) {
  serverRoutes.openapi(
    authedRoute({
      method: "post",
      path: `/{ref}/${action}`,
      tags: ["servers"],
      summary: `${action[0]!.toUpperCase()}${action.slice(1)} a server, as a task (manage_servers)`,
      request: { params: ServerRef },
      responses: { 202: jsonResponse(ServerTaskStarted, "The task.") },
      errors: ["notFound", "conflict", "relay"],
    }),
    async (c) => {
      const out = await lifecycle.serverAction(c.var.db, c.env, actor(c), [c.req.valid("param").ref], action);
      return c.json(started(out.task, out.servers), 202);
    },
  );
}

serverRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{ref}",
    tags: ["servers"],
    summary: "Delete a server: its container, and its data volumes unless keep_data=true, as a task (manage_servers)",
    request: { params: ServerRef, query: z.object({ keep_data: queryBool.optional() }) },
    responses: { 202: jsonResponse(ServerTaskStarted, "The task.") },
    errors: ["notFound", "conflict", "relay"],
  }),
  async (c) => {
    const out = await lifecycle.deleteServers(c.var.db, c.env, actor(c), [c.req.valid("param").ref], {
      keepData: c.req.valid("query").keep_data,
    });
    return c.json(started(out.task, out.servers), 202);
  },
);

const ConfigPatch = z
  .object({
    cpu: Cpu.nullable().optional(),
    memory_mb: MemoryMb.nullable().optional(),
    disk_gb: DiskGb.nullable().optional(),
    image: ImageRef.optional(),
    env: EnvMap.optional(),
    command: Command.nullable().optional(),
    ports: z.array(ServerPortSchema).max(20).optional(),
  })
  .refine(
    (p) => Object.values(p).some((v) => v !== undefined),
    "nothing to change: give cpu, memory_mb, disk_gb, image, env, command or ports",
  )
  .openapi("ServerConfigPatch");

const ConfigView = z
  .object({
    server: ServerView,
    disks: z.array(z.object({ device: z.string(), volume_name: z.string(), mount_path: z.string(), size_gb: z.number().nullable() })),
  })
  .openapi("ServerConfig");

serverRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{ref}/config",
    tags: ["servers"],
    summary: "A server's configuration and disks",
    request: { params: ServerRef },
    responses: { 200: jsonResponse(ConfigView, "The configuration.") },
    errors: ["notFound"],
  }),
  async (c) => {
    const row = await one(c, c.req.valid("param").ref);
    const disks = await serverDisksOf(c.var.db, row.id);
    return c.json(
      {
        server: toServerView(row),
        disks: disks.map((d) => ({ device: d.device, volume_name: d.volumeName, mount_path: d.mountPath, size_gb: d.sizeGb })),
      },
      200,
    );
  },
);

serverRoutes.openapi(
  authedRoute({
    method: "patch",
    path: "/{ref}/config",
    tags: ["servers"],
    summary: "Change a server's configuration: cpu and memory_mb live, image, env, command and ports by a recreate task (manage_servers)",
    request: { params: ServerRef, body: jsonBody(ConfigPatch) },
    responses: {
      200: jsonResponse(
        z.object({
          server: ServerView,
          task_id: z.string().nullable(),
          task: TaskView.nullable(),
          live: z.array(z.string()),
          recreate: z.array(z.string()),
        }),
        "What changed live, and the task for the rest.",
      ),
    },
    errors: ["validation", "notFound", "conflict", "relay"],
  }),
  async (c) => {
    const out = await lifecycle.updateServerConfig(c.var.db, c.env, actor(c), c.req.valid("param").ref, c.req.valid("json"));
    return c.json(
      {
        server: toServerView(out.server),
        task_id: out.task?.id ?? null,
        task: out.task ? toTaskView(out.task) : null,
        live: out.live,
        recreate: out.recreate,
      },
      200,
    );
  },
);

serverRoutes.openapi(
  authedRoute({
    method: "put",
    path: "/{ref}/role",
    tags: ["servers"],
    summary:
      "Assign a role (or remove it with null): the server is recreated from the template, keeping its data volume and address (assign_roles)",
    request: { params: ServerRef, body: jsonBody(z.object({ role: RoleName.nullable() })) },
    responses: { 202: jsonResponse(ServerTaskStarted, "The task.") },
    errors: ["validation", "notFound", "conflict", "relay"],
  }),
  async (c) => {
    const out = await lifecycle.assignRole(c.var.db, c.env, actor(c), [c.req.valid("param").ref], c.req.valid("json").role);
    return c.json(started(out.task, out.servers), 202);
  },
);

serverRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{ref}/logs",
    tags: ["servers"],
    summary: "The last lines of a server's container output",
    request: { params: ServerRef, query: z.object({ tail: z.coerce.number().int().min(1).max(10_000).default(100) }) },
    responses: {
      200: jsonResponse(
        z.object({ lines: z.array(z.object({ stream: z.enum(["stdout", "stderr"]), text: z.string() })), truncated: z.boolean() }),
        "Its output, oldest first.",
      ),
    },
    errors: ["validation", "notFound", "conflict", "relay"],
  }),
  async (c) => {
    const out = await lifecycle.serverLogs(c.var.db, c.env, c.var.principal, c.req.valid("param").ref, c.req.valid("query").tail);
    return c.json({ lines: out.lines, truncated: out.truncated }, 200);
  },
);

serverRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{ref}/disks",
    tags: ["servers"],
    summary: "Add a data volume mounted at mount_path: the server is recreated with it (manage_servers)",
    request: {
      params: ServerRef,
      body: jsonBody(
        z.object({
          device: z
            .string()
            .regex(/^[a-z][a-z0-9]{0,15}$/, "lower-case letters and digits, starting with a letter")
            .optional(),
          mount_path: DataPath.optional(),
          size_gb: DiskGb.optional(),
        }),
      ),
    },
    responses: {
      202: jsonResponse(ServerTaskStarted.extend({ device: z.string(), mount_path: z.string(), volume_name: z.string() }), "The task."),
    },
    errors: ["validation", "notFound", "conflict", "relay"],
  }),
  async (c) => {
    const b = c.req.valid("json");
    const out = await lifecycle.addServerDisk(c.var.db, c.env, actor(c), c.req.valid("param").ref, b);
    return c.json({ ...started(out.task, [out.server]), device: out.device, mount_path: out.mountPath, volume_name: out.volumeName }, 202);
  },
);

serverRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{ref}/disks/{device}",
    tags: ["servers"],
    summary: "Remove a data volume: the server is recreated without it; the volume goes too unless keep_data=true (manage_servers)",
    request: {
      params: ServerRef.extend({
        device: z
          .string()
          .min(1)
          .max(16)
          .openapi({ param: { name: "device", in: "path" }, example: "disk1" }),
      }),
      query: z.object({ keep_data: queryBool.optional() }),
    },
    responses: { 202: jsonResponse(ServerTaskStarted, "The task.") },
    errors: ["notFound", "conflict", "relay"],
  }),
  async (c) => {
    const { ref, device } = c.req.valid("param");
    const out = await lifecycle.removeServerDisk(c.var.db, c.env, actor(c), ref, device, { keepData: c.req.valid("query").keep_data });
    return c.json(started(out.task, [out.server]), 202);
  },
);

serverRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{ref}/cleanup",
    tags: ["servers"],
    summary: "Whether a server has failed, and why",
    request: { params: ServerRef },
    responses: { 200: jsonResponse(FailedView.extend({ failed: z.boolean() }), "Its cleanup status.") },
    errors: ["notFound"],
  }),
  async (c) => {
    const s = await lifecycle.cleanupStatus(c.var.db, c.env, c.var.principal, c.req.valid("param").ref);
    return c.json({ ...s, server: toServerView(s.server) }, 200);
  },
);

// ---- roles -------------------------------------------------------------------------------------------------

const RoleParam = z.object({
  name: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "name", in: "path" }, example: "web" }),
});

serverRoleRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["server roles"],
    summary: "The organization's server roles (built-in web, was and db included), with how many servers have each",
    responses: { 200: jsonResponse(z.object({ roles: z.array(RoleView) }), "The catalog.") },
  }),
  async (c) => {
    const org = c.var.principal.organizationId;
    const [list, usage] = await Promise.all([roles.listRoles(c.var.db, c.env, org), roles.roleUsage(c.var.db, org)]);
    const views = await Promise.all(list.map(async (r) => roles.toRoleView(r, await roles.roleEnv(c.env, r), usage.get(r.name) ?? 0)));
    return c.json({ roles: views }, 200);
  },
);

serverRoleRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/",
    tags: ["server roles"],
    summary: "Add a role to the catalog (admin_access)",
    request: { body: jsonBody(RoleInput) },
    responses: { 201: jsonResponse(RoleView, "The role.") },
    errors: ["validation", "conflict"],
  }),
  async (c) => {
    const body = c.req.valid("json");
    const row = await roles.createRole(c.var.db, c.env, actor(c), body);
    return c.json(roles.toRoleView(row, body.env ?? {}), 201);
  },
);

serverRoleRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{name}",
    tags: ["server roles"],
    summary: "A role",
    request: { params: RoleParam },
    responses: { 200: jsonResponse(RoleView, "The role.") },
    errors: ["notFound"],
  }),
  async (c) => {
    const row = await roles.getRole(c.var.db, c.env, c.var.principal.organizationId, c.req.valid("param").name);
    return c.json(roles.toRoleView(row, await roles.roleEnv(c.env, row)), 200);
  },
);

serverRoleRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{name}/validate",
    tags: ["server roles"],
    summary: "Whether a name is a well-formed role in the catalog",
    request: { params: RoleParam },
    responses: {
      200: jsonResponse(
        z.object({
          role: z.string(),
          valid: z.boolean(),
          exists: z.boolean(),
          reason: z.string().nullable(),
          template: RoleView.nullable(),
        }),
        "The verdict.",
      ),
    },
  }),
  async (c) => c.json(await roles.validateRole(c.var.db, c.env, c.var.principal.organizationId, c.req.valid("param").name), 200),
);

serverRoleRoutes.openapi(
  authedRoute({
    method: "patch",
    path: "/{name}",
    tags: ["server roles"],
    summary: "Change a role (admin_access); servers get it at their next recreate (assign the role again)",
    request: { params: RoleParam, body: jsonBody(RolePatch) },
    responses: { 200: jsonResponse(RoleView, "The role.") },
    errors: ["validation", "notFound"],
  }),
  async (c) => {
    const row = await roles.updateRole(c.var.db, c.env, actor(c), c.req.valid("param").name, c.req.valid("json"));
    return c.json(roles.toRoleView(row, await roles.roleEnv(c.env, row)), 200);
  },
);

serverRoleRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{name}",
    tags: ["server roles"],
    summary: "Delete a role no server has (admin_access; built-in roles cannot be deleted)",
    request: { params: RoleParam },
    responses: { 204: { description: "Deleted." } },
    errors: ["notFound", "conflict"],
  }),
  async (c) => {
    await roles.deleteRole(c.var.db, c.env, actor(c), c.req.valid("param").name);
    return c.body(null, 204);
  },
);
