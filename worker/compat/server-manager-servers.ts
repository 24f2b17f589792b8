// The servers of the server manager's API documents (seed 002, and its version 2, seed 004), as
// thin adapters over the servers services: list, create and bulk create, actions and bulk actions,
// delete and bulk delete, status, configuration, logs, disks, roles, sync, cleanup, datastores and
// the task runner's state. Paths only 002 has answer in its shapes (`{success, message, task_id}`,
// errors as `{error: {code, message, details}}`); paths 004 has (shared ones included) in its
// `{success, data, message}` envelope, with 002's fields alongside where 002 reads the same path.
import { Hono, type Context } from "hono";
import { z } from "zod";
import { TASK_STATUSES } from "../db/schema.ts";
import type { AppEnv } from "../env.ts";
import { ApiError } from "../errors.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { getHost, getHostByName, setDefaultHost, allHosts } from "../services/hosts.ts";
import { TASK_TIMEOUT_MS } from "../services/host-tasks.ts";
import * as lifecycle from "../services/server-lifecycle.ts";
import * as roles from "../services/server-roles.ts";
import {
  BulkNetworkConfig,
  DataPath,
  EnvMap,
  NetworkConfig,
  RoleName,
  ServerPortSchema,
  type ServerCreateInput,
} from "../services/server-fields.ts";
import { ImageRef } from "../services/fields.ts";
import {
  getServer,
  listServers,
  serverContainerName,
  serverDisksOf,
  serverScope,
  SERVER_STATUSES,
  type ServerRow,
} from "../services/servers.ts";
import * as tasks from "../services/tasks.ts";
import { ok } from "./server-manager.ts";
import { query } from "./server-manager-notifications.ts";
import { readJson } from "./validate.ts";
import { assertPermission } from "../services/permissions.ts";

export const serverManagerServersCompat = new Hono<AppEnv>();

// ---- shapes -----------------------------------------------------------------------------------------------

/** A server as 002 shows it (`id` is its numeric alias), with what Pier knows besides. */
export function compatServer(r: ServerRow, hostName?: string) {
  return {
    id: r.alias,
    name: r.name,
    ip_address: r.ipAddress,
    role: r.role,
    status: r.status,
    cpu: r.cpu,
    memory: r.memoryMb,
    disk_size: r.diskGb,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
    server_id: r.id,
    node: hostName ?? null,
    host_id: r.hostId,
    project_id: r.projectId,
    image: r.image,
    container_id: r.containerId,
    container_name: serverContainerName(r),
    network: r.networkName,
    last_error: r.lastError,
    task_id: r.taskId,
  };
}

async function hostNames(c: Context<AppEnv>): Promise<Map<string, string>> {
  return new Map((await allHosts(c.var.db, c.var.principal.organizationId)).map((h) => [h.id, h.name]));
}

const viewAll = async (c: Context<AppEnv>, rows: ServerRow[]) => {
  const names = await hostNames(c);
  return rows.map((r) => compatServer(r, r.hostId ? names.get(r.hostId) : undefined));
};

const taskView = (t: tasks.TaskRow) => ({
  task_id: t.id,
  status: t.status,
  progress: t.progress,
  message: t.message ?? "",
  created_at: t.createdAt,
  updated_at: t.updatedAt,
});

// ---- bodies ----------------------------------------------------------------------------------------------

/** The documents' server: 002's fields (`memory` in MB, `disk_size` in GB, `network_config`), plus Pier's. */
const CompatServer = z.object({
  name: z.string().min(1).max(63),
  role: RoleName.nullable().optional(),
  image: ImageRef.optional(),
  cpu: z.number().positive().max(1024).optional(),
  memory: z
    .number()
    .int()
    .min(6)
    .max(16 * 1024 * 1024)
    .optional(),
  disk_size: z
    .number()
    .int()
    .min(1)
    .max(1024 * 1024)
    .optional(),
  network_config: NetworkConfig.optional(),
  ip_address: z.ipv4().optional(),
  host_id: z.string().min(1).max(64).optional(),
  node: z.string().min(1).max(255).optional(),
  project_id: z.string().min(1).max(64).nullable().optional(),
  env: EnvMap.optional(),
  command: z.array(z.string().max(4096)).min(1).max(100).optional(),
  ports: z.array(ServerPortSchema).max(20).optional(),
});
type CompatServer = z.infer<typeof CompatServer>;

/** 004 names a node by name; Pier's hosts by id or name. */
async function hostOf(c: Context<AppEnv>, node: string | undefined): Promise<string | undefined> {
  if (!node) return undefined;
  const org = c.var.principal.organizationId;
  return /^hst_/.test(node) ? (await getHost(c.var.db, org, node)).id : (await getHostByName(c.var.db, org, node)).id;
}

async function toCreateInput(c: Context<AppEnv>, s: CompatServer): Promise<ServerCreateInput> {
  const network = s.network_config ?? (s.ip_address ? { ip_address: s.ip_address } : undefined);
  return {
    name: s.name,
    role: s.role ?? undefined,
    image: s.image,
    host_id: s.host_id ?? (await hostOf(c, s.node)),
    project_id: s.project_id,
    cpu: s.cpu,
    memory_mb: s.memory,
    disk_gb: s.disk_size,
    command: s.command,
    env: s.env,
    ports: s.ports,
    network: network && s.ip_address && !network.ip_address ? { ...network, ip_address: s.ip_address } : network,
  } as ServerCreateInput;
}

const BulkBody = z
  .object({
    servers: z.array(CompatServer).min(1).max(100).optional(),
    /** 004's form: `count` servers named `<name_prefix>-01`…, from one template. */
    count: z.number().int().min(1).max(100).optional(),
    name_prefix: z.string().min(1).max(60).optional(),
    role: RoleName.optional(),
    image: ImageRef.optional(),
    cpu: z.number().positive().max(1024).optional(),
    memory: z.number().int().min(6).optional(),
    disk_size: z.number().int().min(1).optional(),
    network_config: BulkNetworkConfig.optional(),
    host_id: z.string().min(1).max(64).optional(),
    node: z.string().min(1).max(255).optional(),
  })
  .refine((b) => b.servers || (b.count && b.name_prefix), { message: "give `servers`, or `count` with `name_prefix`", path: ["servers"] });

async function bulkCreate(c: Context<AppEnv>) {
  const b = await readJson(c, BulkBody);
  const list: CompatServer[] =
    b.servers ??
    lifecycle
      .numberedNames(b.name_prefix!, b.count!)
      .map((name) => ({ name, role: b.role, image: b.image, cpu: b.cpu, memory: b.memory, disk_size: b.disk_size }));
  const inputs = await Promise.all(list.map((s) => toCreateInput(c, s)));
  return lifecycle.createServers(c.var.db, c.env, authedActor(c), {
    servers: inputs,
    network: b.network_config,
    hostId: b.host_id ?? (await hostOf(c, b.node)),
    pointer: { servers: "/body/servers", network: "/body/network_config", ...(b.servers ? {} : { template: "/body" }) },
  });
}

async function singleCreate(c: Context<AppEnv>) {
  const s = await readJson(c, CompatServer);
  return lifecycle.createServers(c.var.db, c.env, authedActor(c), {
    servers: [await toCreateInput(c, s)],
    pointer: { servers: "/body", network: "/body/network_config" },
  });
}

const Refs = z
  .array(z.union([z.string().min(1).max(64), z.number().int().min(1)]))
  .min(1)
  .max(100);
/** The ways the documents name servers in a body: 002's `server_ids` (numbers), 004's names. */
const RefsBody = z.object({ server_ids: Refs.optional(), server_names: Refs.optional(), servers: Refs.optional() });
const refsOf = (b: z.infer<typeof RefsBody>, at = "server_names") => {
  const refs = b.server_ids ?? b.server_names ?? b.servers;
  if (!refs)
    throw new ApiError(422, `${at}: give the servers, by name or id`, {
      errors: [{ pointer: `/body/${at}`, detail: "give the servers, by name or id" }],
    });
  return refs;
};

const scope = async (c: Context<AppEnv>) => serverScope(c.var.db, c.var.principal);
const one = async (c: Context<AppEnv>, ref: string) => getServer(c.var.db, c.var.principal.organizationId, ref, await scope(c));
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

// ---- 002 and 004: the list -----------------------------------------------------------------------------------

serverManagerServersCompat.get("/api/servers", requireAuth(), async (c) => {
  const q = query(c, z.object({ status: z.enum(SERVER_STATUSES).optional(), role: z.string().max(40).optional() }));
  const rows = await listServers(c.var.db, c.var.principal.organizationId, { ...q, ...(await scope(c)) });
  const items = await viewAll(c, rows);
  return c.json({ ...ok(items, `${plural(items.length, "server")}.`), servers: items, total: items.length });
});

// ---- 002 only ------------------------------------------------------------------------------------------------

serverManagerServersCompat.post("/api/servers/create", requireAuth(), async (c) => {
  const { task, servers } = await singleCreate(c);
  return c.json(
    { success: true, message: `Creating server ${servers[0]!.name}.`, task_id: task.id, server: (await viewAll(c, servers))[0] },
    201,
  );
});

serverManagerServersCompat.post("/api/servers/bulk-create", requireAuth(), async (c) => {
  const { task, servers } = await bulkCreate(c);
  return c.json(
    { success: true, message: `Creating ${plural(servers.length, "server")}.`, task_id: task.id, servers: await viewAll(c, servers) },
    201,
  );
});

serverManagerServersCompat.post("/api/servers/bulk-delete", requireAuth(), async (c) => {
  const b = await readJson(c, RefsBody.extend({ keep_data: z.boolean().optional() }));
  const { task, servers } = await lifecycle.deleteServers(c.var.db, c.env, authedActor(c), refsOf(b, "server_ids"), {
    keepData: b.keep_data,
  });
  return c.json({ success: true, message: `Deleting ${plural(servers.length, "server")}.`, task_id: task.id });
});

serverManagerServersCompat.put("/api/servers/:ref/status", requireAuth(), async (c) => {
  const b = await readJson(
    c,
    z.object({ status: z.enum(["running", "stopped", "restarting", "rebooting", "started", "start", "stop", "reboot"]) }),
  );
  const action: lifecycle.ServerAction =
    b.status === "running" || b.status === "started" || b.status === "start"
      ? "start"
      : b.status === "stopped" || b.status === "stop"
        ? "stop"
        : "reboot";
  const { task, servers } = await lifecycle.serverAction(c.var.db, c.env, authedActor(c), [c.req.param("ref")], action);
  return c.json({
    success: true,
    message: `Server ${servers[0]!.name}: ${action} started.`,
    task_id: task.id,
    server: (await viewAll(c, servers))[0],
  });
});

serverManagerServersCompat.delete("/api/servers/:ref", requireAuth(), async (c) => {
  const keep = query(c, z.object({ keep_data: z.enum(["true", "false", "1", "0"]).optional() })).keep_data;
  const { task, servers } = await lifecycle.deleteServers(c.var.db, c.env, authedActor(c), [c.req.param("ref")], {
    keepData: keep === "true" || keep === "1",
  });
  return c.json({ success: true, message: `Deleting server ${servers[0]!.name}.`, task_id: task.id });
});

// ---- 004: servers ---------------------------------------------------------------------------------------------

serverManagerServersCompat.get("/api/servers/brief", requireAuth(), async (c) => {
  const rows = await listServers(c.var.db, c.var.principal.organizationId, await scope(c));
  const data = rows.map((r) => ({ id: r.alias, name: r.name, ip_address: r.ipAddress, role: r.role, status: r.status }));
  return c.json(ok(data, `${plural(data.length, "server")}.`));
});

serverManagerServersCompat.get("/api/all_server_status", requireAuth(), async (c) => {
  const rows = await listServers(c.var.db, c.var.principal.organizationId, await scope(c));
  const { rows: fresh, unreachable } = await lifecycle.refreshStatuses(c.var.db, c.env, c.var.principal.organizationId, rows);
  const items = await viewAll(c, fresh);
  const count = (s: string) => fresh.filter((r) => r.status === s).length;
  return c.json(
    ok(
      {
        servers: Object.fromEntries(items.map((s) => [s.name, s])),
        total: items.length,
        running: count("running"),
        stopped: count("stopped"),
        error: count("error"),
        unreachable_nodes: unreachable,
      },
      "Server status read from each host now.",
    ),
  );
});

serverManagerServersCompat.get("/api/server_status/:ref", requireAuth(), async (c) => {
  const row = await one(c, c.req.param("ref"));
  const { rows, unreachable } = await lifecycle.refreshStatuses(c.var.db, c.env, c.var.principal.organizationId, [row]);
  const [view] = await viewAll(c, rows);
  return c.json(ok({ ...view!, host_reachable: unreachable.length === 0 }, `Server ${row.name} is ${rows[0]!.status}.`));
});

const createdV2 = async (c: Context<AppEnv>, out: { task: tasks.TaskRow; servers: ServerRow[] }) =>
  c.json(
    ok(
      { task_id: out.task.id, task: taskView(out.task), servers: await viewAll(c, out.servers) },
      `Creating ${plural(out.servers.length, "server")}: follow /api/tasks/${out.task.id}/status.`,
    ),
    202,
  );

serverManagerServersCompat.post("/api/servers", requireAuth(), async (c) => createdV2(c, await singleCreate(c)));
serverManagerServersCompat.post("/api/servers/async", requireAuth(), async (c) => createdV2(c, await singleCreate(c)));
serverManagerServersCompat.post("/api/create_servers_bulk", requireAuth(), async (c) => createdV2(c, await bulkCreate(c)));

for (const action of ["start", "stop", "reboot", "delete"] as const) {
  serverManagerServersCompat.post(`/api/servers/:ref/${action}`, requireAuth(), async (c) => {
    const ref = c.req.param("ref");
    const out =
      action === "delete"
        ? await lifecycle.deleteServers(c.var.db, c.env, authedActor(c), [ref], {
            keepData: (await readJson(c, z.object({ keep_data: z.boolean().optional() }), { optional: true })).keep_data,
          })
        : await lifecycle.serverAction(c.var.db, c.env, authedActor(c), [ref], action);
    return c.json(
      ok(
        { task_id: out.task.id, task: taskView(out.task), server: out.servers[0]!.name },
        `Server ${out.servers[0]!.name}: ${action} started.`,
      ),
      202,
    );
  });
}

const BulkAction = RefsBody.extend({
  action: z.enum(["start", "stop", "reboot", "restart", "delete"]),
  keep_data: z.boolean().optional(),
});

async function bulkAction(c: Context<AppEnv>) {
  const b = await readJson(c, BulkAction);
  const refs = refsOf(b);
  const action = b.action === "restart" ? "reboot" : b.action;
  const out =
    action === "delete"
      ? await lifecycle.deleteServers(c.var.db, c.env, authedActor(c), refs, { keepData: b.keep_data })
      : await lifecycle.serverAction(c.var.db, c.env, authedActor(c), refs, action);
  return c.json(
    ok(
      { task_id: out.task.id, task: taskView(out.task), action, servers: out.servers.map((s) => s.name) },
      `${action} of ${plural(out.servers.length, "server")} started: follow /api/tasks/${out.task.id}/status.`,
    ),
    202,
  );
}
serverManagerServersCompat.post("/api/servers/bulk_action", requireAuth(), bulkAction);
serverManagerServersCompat.post("/api/servers/bulk_action/async", requireAuth(), bulkAction);

// ---- 004: configuration, logs, disks --------------------------------------------------------------------------------

async function configView(c: Context<AppEnv>, row: ServerRow) {
  const [view] = await viewAll(c, [row]);
  const disks = await serverDisksOf(c.var.db, row.id);
  return {
    ...view!,
    config: row.config,
    disks: disks.map((d) => ({ device: d.device, mount_path: d.mountPath, volume: d.volumeName, size: d.sizeGb })),
  };
}

serverManagerServersCompat.get("/api/server/config/:ref", requireAuth(), async (c) => {
  const row = await one(c, c.req.param("ref"));
  return c.json(ok(await configView(c, row), `Configuration of ${row.name}.`));
});

serverManagerServersCompat.put("/api/server/config/:ref", requireAuth(), async (c) => {
  const b = await readJson(
    c,
    z
      .object({
        cpu: z.number().positive().max(1024).nullable().optional(),
        memory: z.number().int().min(6).nullable().optional(),
        disk_size: z.number().int().min(1).nullable().optional(),
        image: ImageRef.optional(),
        env: EnvMap.optional(),
        command: z.array(z.string().max(4096)).min(1).max(100).nullable().optional(),
        ports: z.array(ServerPortSchema).max(20).optional(),
      })
      .refine(
        (p) => Object.values(p).some((v) => v !== undefined),
        "nothing to change: give cpu, memory, disk_size, image, env, command or ports",
      ),
  );
  const out = await lifecycle.updateServerConfig(c.var.db, c.env, authedActor(c), c.req.param("ref"), {
    cpu: b.cpu,
    memory_mb: b.memory,
    disk_gb: b.disk_size,
    image: b.image,
    env: b.env,
    command: b.command,
    ports: b.ports,
  });
  const what = [
    ...(out.live.length ? [`${out.live.join(", ")} changed live`] : []),
    ...(out.recreate.length ? [`${out.recreate.join(", ")} by a recreate`] : []),
  ];
  return c.json(
    ok(
      { ...(await configView(c, out.server)), task_id: out.task?.id ?? null, live: out.live, recreate: out.recreate },
      `Server ${out.server.name}: ${what.join("; ")}.`,
    ),
  );
});

serverManagerServersCompat.get("/api/server/logs/:ref", requireAuth(), async (c) => {
  const q = query(
    c,
    z.object({ lines: z.coerce.number().int().min(1).max(10_000).optional(), tail: z.coerce.number().int().min(1).max(10_000).optional() }),
  );
  const out = await lifecycle.serverLogs(c.var.db, c.env, c.var.principal, c.req.param("ref"), q.lines ?? q.tail ?? 100);
  return c.json(
    ok(
      { server: out.server.name, logs: out.lines.map((l) => l.text), lines: out.lines, truncated: out.truncated },
      `The last ${plural(out.lines.length, "line")} of ${out.server.name}.`,
    ),
  );
});

serverManagerServersCompat.post("/api/server/disk/:ref", requireAuth(), async (c) => {
  const b = await readJson(
    c,
    z.object({
      device: z
        .string()
        .regex(/^[a-z][a-z0-9]{0,15}$/, "lower-case letters and digits, starting with a letter")
        .optional(),
      size: z.number().int().min(1).optional(),
      size_gb: z.number().int().min(1).optional(),
      mount_path: DataPath.optional(),
    }),
    { optional: true },
  );
  const out = await lifecycle.addServerDisk(c.var.db, c.env, authedActor(c), c.req.param("ref"), {
    device: b.device,
    mount_path: b.mount_path,
    size_gb: b.size_gb ?? b.size ?? null,
  });
  return c.json(
    ok(
      { task_id: out.task.id, device: out.device, mount_path: out.mountPath, volume: out.volumeName },
      `Adding disk ${out.device} to ${out.server.name}.`,
    ),
    202,
  );
});

serverManagerServersCompat.delete("/api/server/disk/:ref/:device", requireAuth(), async (c) => {
  const keep = query(c, z.object({ keep_data: z.enum(["true", "false", "1", "0"]).optional() })).keep_data;
  const out = await lifecycle.removeServerDisk(c.var.db, c.env, authedActor(c), c.req.param("ref"), c.req.param("device"), {
    keepData: keep === "true" || keep === "1",
  });
  return c.json(
    ok({ task_id: out.task.id, device: c.req.param("device") }, `Removing disk ${c.req.param("device")} from ${out.server.name}.`),
    202,
  );
});

// ---- 004: roles -------------------------------------------------------------------------------------------------------

const roleStarted = (c: Context<AppEnv>, out: { task: tasks.TaskRow; servers: ServerRow[] }, role: string | null) =>
  c.json(
    ok(
      { task_id: out.task.id, task: taskView(out.task), role, servers: out.servers.map((s) => s.name) },
      `${role ? `Assigning role ${role} to` : "Removing the role of"} ${plural(out.servers.length, "server")}: follow /api/tasks/${out.task.id}/status.`,
    ),
    202,
  );

serverManagerServersCompat.post("/api/assign_role/:ref", requireAuth(), async (c) => {
  const b = await readJson(c, z.object({ role: RoleName }));
  const out = await lifecycle.assignRole(c.var.db, c.env, authedActor(c), [c.req.param("ref")], b.role);
  return roleStarted(c, out, b.role);
});

serverManagerServersCompat.post("/api/remove_role/:ref", requireAuth(), async (c) => {
  const out = await lifecycle.assignRole(c.var.db, c.env, authedActor(c), [c.req.param("ref")], null);
  return roleStarted(c, out, null);
});

serverManagerServersCompat.post("/api/roles/assign_bulk", requireAuth(), async (c) => {
  const b = await readJson(c, RefsBody.extend({ role: RoleName.nullable() }));
  const out = await lifecycle.assignRole(c.var.db, c.env, authedActor(c), refsOf(b), b.role);
  return roleStarted(c, out, b.role);
});

serverManagerServersCompat.get("/api/roles/available", requireAuth(), async (c) => {
  const org = c.var.principal.organizationId;
  const [list, usage] = await Promise.all([roles.listRoles(c.var.db, c.env, org), roles.roleUsage(c.var.db, org)]);
  const data = await Promise.all(list.map(async (r) => roles.toRoleView(r, await roles.roleEnv(c.env, r), usage.get(r.name) ?? 0)));
  return c.json({ ...ok(data, `${plural(data.length, "role")}.`), roles: Object.fromEntries(data.map((r) => [r.name, r])) });
});

serverManagerServersCompat.get("/api/roles/validate/:name", requireAuth(), async (c) => {
  const v = await roles.validateRole(c.var.db, c.env, c.var.principal.organizationId, c.req.param("name"));
  return c.json(ok(v, v.valid ? `Role ${v.role} is valid.` : (v.reason ?? "Not a valid role.")));
});

// ---- 004: tasks, Celery, datastores, sync -------------------------------------------------------------------------

serverManagerServersCompat.get("/api/celery/status", requireAuth(), async (c) => {
  const [counts, running, queued] = await Promise.all([
    tasks.taskCounts(c.var.db, c.var.principal),
    tasks.listTasks(c.var.db, c.var.principal, { status: "running" }, { limit: 100 }),
    tasks.listTasks(c.var.db, c.var.principal, { status: "queued" }, { limit: 100 }),
  ]);
  return c.json(
    ok(
      {
        status: "running",
        // Pier has no Celery: each task runs in its own TaskRunner Durable Object, started on demand.
        engine: "pier-task-runner",
        broker: "durable-objects",
        workers: { online: true, per_task: true },
        active: running.items.length,
        queued: queued.items.length,
        counts,
        statuses: TASK_STATUSES,
        timeout_seconds: TASK_TIMEOUT_MS / 1000,
        active_tasks: [...running.items, ...queued.items].map(taskView),
      },
      "Task runner status.",
    ),
  );
});

async function datastoreList(c: Context<AppEnv>) {
  const stores = await lifecycle.datastores(c.var.db, c.env, c.var.principal);
  const hosts = await allHosts(c.var.db, c.var.principal.organizationId);
  const isDefault = new Map(hosts.map((h) => [h.id, h.isDefault]));
  return stores.map((s) => ({ ...s, id: s.host_id, name: s.node, default: isDefault.get(s.host_id) ?? false }));
}

serverManagerServersCompat.get("/api/datastores", requireAuth(), async (c) => {
  const data = await datastoreList(c);
  return c.json({ ...ok(data, `${plural(data.length, "datastore")}.`), datastores: data });
});

serverManagerServersCompat.post("/api/datastores/refresh", requireAuth(), async (c) => {
  // A rescan asks every host: an action, like the sync.
  assertPermission(c.var.principal, "manage_servers");
  const data = await datastoreList(c);
  return c.json({ ...ok(data, `Read ${plural(data.length, "datastore")} from the hosts now.`), datastores: data });
});

serverManagerServersCompat.post("/api/datastores/default", requireAuth(), async (c) => {
  const b = await readJson(
    c,
    z.object({
      datastore: z.string().min(1).max(255).optional(),
      host_id: z.string().min(1).max(64).optional(),
      node: z.string().min(1).max(255).optional(),
    }),
  );
  const ref = b.host_id ?? b.datastore ?? b.node;
  if (!ref)
    throw new ApiError(422, "datastore: name the host (its id or name)", {
      errors: [{ pointer: "/body/datastore", detail: "name the host (its id or name)" }],
    });
  const hostId = (await hostOf(c, ref))!;
  const host = await setDefaultHost(c.var.db, authedActor(c), hostId);
  return c.json(ok({ id: host.id, name: host.name, default: true }, `${host.name} is now the default datastore (new servers go to it).`));
});

serverManagerServersCompat.get("/api/proxmox_storage", requireAuth(), async (c) => {
  const data = await datastoreList(c);
  return c.json({
    ...ok(data, "Storage of each host (Pier runs servers on Docker hosts: these are their storage and volume drivers)."),
    storages: data,
  });
});

serverManagerServersCompat.post("/api/sync_servers", requireAuth(), async (c) => {
  const r = await lifecycle.syncServers(c.var.db, c.env, authedActor(c));
  const servers = await viewAll(c, r.servers);
  return c.json(
    ok(
      { servers, changes: r.changes, missing: r.missing, orphans: r.orphans, nodes: r.hosts, synced: servers.length },
      `Synced ${plural(servers.length, "server")}: ${r.changes.length} changed, ${r.missing.length} missing, ${plural(r.orphans.length, "orphaned container")}.`,
    ),
  );
});

// ---- 004: cleanup ---------------------------------------------------------------------------------------------------

const failedView = async (c: Context<AppEnv>, f: lifecycle.FailedServer) => ({
  ...(await viewAll(c, [f.server]))[0]!,
  reasons: f.reasons,
  task: f.task,
});

serverManagerServersCompat.get("/api/cleanup/status/:ref", requireAuth(), async (c) => {
  const s = await lifecycle.cleanupStatus(c.var.db, c.env, c.var.principal, c.req.param("ref"));
  return c.json(
    ok(
      { ...(await failedView(c, s)), failed: s.failed },
      s.failed ? `Server ${s.server.name} has failed.` : `Server ${s.server.name} has not failed.`,
    ),
  );
});

serverManagerServersCompat.get("/api/cleanup/failed-servers", requireAuth(), async (c) => {
  const list = await lifecycle.failedServerList(c.var.db, c.env, c.var.principal);
  const data = await Promise.all(list.map((f) => failedView(c, f)));
  return c.json({ ...ok(data, `${plural(data.length, "failed server")}.`), total: data.length });
});

serverManagerServersCompat.post("/api/cleanup/clean/:ref", requireAuth(), async (c) => {
  const b = await readJson(c, z.object({ keep_data: z.boolean().optional(), force: z.boolean().optional() }), { optional: true });
  const out = await lifecycle.cleanServers(c.var.db, c.env, authedActor(c), [c.req.param("ref")], {
    keepData: b.keep_data,
    force: b.force,
  });
  return c.json(
    ok({ task_id: out.task?.id ?? null, servers: out.servers.map((s) => s.name) }, `Cleaning ${out.servers[0]?.name ?? "the server"} up.`),
    202,
  );
});

serverManagerServersCompat.post("/api/cleanup/bulk-clean", requireAuth(), async (c) => {
  const b = await readJson(c, RefsBody.extend({ keep_data: z.boolean().optional(), force: z.boolean().optional() }), { optional: true });
  const refs = b.server_ids ?? b.server_names ?? b.servers;
  const out = await lifecycle.cleanServers(c.var.db, c.env, authedActor(c), refs ?? "failed", { keepData: b.keep_data, force: b.force });
  return c.json(
    ok(
      { task_id: out.task?.id ?? null, servers: out.servers.map((s) => s.name), cleaned: out.servers.length },
      out.task ? `Cleaning ${plural(out.servers.length, "server")} up.` : "No failed server to clean up.",
    ),
    out.task ? 202 : 200,
  );
});
