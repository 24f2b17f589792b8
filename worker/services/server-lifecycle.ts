// The request side of servers' lifecycle: validate, authorize, record the rows and the task, and
// hand the work to a TaskRunner (services/server-run.ts does it on the hosts). Also the quick
// operations that need no task: live limits, logs, status, sync, cleanup reports, datastores.
import { and, eq, inArray, isNotNull, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { hosts, servers, tasks, type ServerConfig, type ServerStatus } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { ApiError, conflict, invalid, notFound, type FieldError } from "../errors.ts";
import { encryptSecret } from "../lib/crypto.ts";
import { newId } from "../lib/ids.ts";
import { nowIso } from "../lib/time.ts";
import { errorText, isUniqueViolation } from "../db/errors.ts";
import { defaultHostId } from "./applications.ts";
import { recordAudit } from "./audit.ts";
import { requireRoleGroups } from "./firewall.ts";
import { effectiveState, getHost, type HostRow } from "./hosts.ts";
import { runOnOrgHost } from "./host-relay.ts";
import { TASK_TIMEOUT_MS } from "./host-tasks.ts";
import { assertPermission } from "./permissions.ts";
import type { Actor, Principal } from "./principal.ts";
import { getProject } from "./project-lookup.ts";
import {
  expandIpRange,
  firstHostAddress,
  inSubnet,
  subnetCidr,
  type BulkNetworkConfig,
  type NetworkConfig,
  type ServerCreateInput,
} from "./server-fields.ts";
import { DEFAULT_DATA_PATH, getRole, type ServerRoleRow } from "./server-roles.ts";
import {
  serverNetworkName,
  serverContainersOn,
  statusOfState,
  volumeUsage,
  type ServerChange,
  type ServerTaskOp,
  type ServerTaskSpec,
} from "./server-run.ts";
import {
  getServer,
  getServers,
  listServers,
  serverContainerName,
  serverDisksOf,
  serverScope,
  serverVolumeName,
  type ServerRow,
} from "./servers.ts";
import { createTask, getTask, isFinished, updateTask, type TaskRow } from "./tasks.ts";

type Caller = Actor & { principal: Principal };

// ---- tasks ---------------------------------------------------------------------------------------

/** Records a server task and starts its runner; the caller answers 202 with it. */
async function startServerTask(
  db: Database,
  env: Bindings,
  actor: Caller,
  op: ServerTaskOp,
  rows: ServerRow[],
  extra: Pick<ServerTaskSpec, "keepData" | "start" | "changes"> = {},
  audit: Record<string, unknown> = {},
): Promise<TaskRow> {
  const p = actor.principal;
  const names = rows.map((r) => r.name);
  const what = rows.length === 1 ? `server ${names[0]}` : `${rows.length} servers`;
  const task = await createTask(db, {
    organizationId: p.organizationId,
    kind: `server.${op}`,
    targetType: "server",
    targetId: rows.length === 1 ? rows[0]!.id : undefined,
    message: `${op[0]!.toUpperCase()}${op.slice(1)} ${what}`,
    createdBy: p.userId,
  });
  await recordAudit(db, actor, {
    organizationId: p.organizationId,
    action: `server.${op}`,
    targetType: "server",
    targetId: rows.length === 1 ? rows[0]!.id : undefined,
    metadata: { servers: names, server_ids: rows.map((r) => r.id), task_id: task.id, ...audit },
  });
  await db
    .update(servers)
    .set({ taskId: task.id })
    .where(
      inArray(
        servers.id,
        rows.map((r) => r.id),
      ),
    );
  try {
    await env.TASK_RUNNER.getByName(task.id).start({
      kind: `server.${op}`,
      taskId: task.id,
      organizationId: p.organizationId,
      timeoutMs: TASK_TIMEOUT_MS,
      serverIds: rows.map((r) => r.id),
      ...extra,
    } satisfies ServerTaskSpec);
  } catch (error) {
    await updateTask(db, task.id, { status: "failed", message: `Could not start the task: ${errorText(error)}` });
    throw new ApiError(503, "The task could not be started; retry.");
  }
  return task;
}

/** A host a server task may act on now: the organization's, with its agent connected. */
function requireOnline(host: HostRow): void {
  const state = effectiveState(host);
  if (state !== "online")
    throw new ApiError(503, `Host ${host.name} is ${state.replace("_", " ")}: its agent is not connected. Start the agent and retry.`);
}

async function hostsOf(db: Database, organizationId: string, rows: ServerRow[]): Promise<Map<string, HostRow>> {
  const ids = [...new Set(rows.map((r) => r.hostId).filter((h): h is string => h !== null))];
  if (!ids.length) return new Map();
  const found = await db
    .select()
    .from(hosts)
    .where(and(eq(hosts.organizationId, organizationId), inArray(hosts.id, ids)));
  return new Map(found.map((h) => [h.id, h]));
}

/** Every server's host is connected (a server whose host is gone can only be deleted). */
async function requireHostsOnline(db: Database, organizationId: string, rows: ServerRow[], allowHostless = false) {
  const byId = await hostsOf(db, organizationId, rows);
  for (const r of rows) {
    if (!r.hostId) {
      if (allowHostless) continue;
      throw conflict(`Server ${r.name} has no host any more (it was deleted): delete or clean up the server.`);
    }
    const host = byId.get(r.hostId);
    if (host) requireOnline(host);
  }
}

/** A server whose task is still making or removing it takes no other action yet. */
async function requireSettled(db: Database, rows: ServerRow[]) {
  const busy = rows.find((r) => r.status === "creating" || r.status === "deleting");
  if (busy)
    throw conflict(
      `Server ${busy.name} is ${busy.status}${busy.taskId ? ` (task ${busy.taskId})` : ""}: wait for that task to end, then retry.`,
    );
  // One task at a time per server: a stop or a second recreate during a recreate (which sets the
  // old container aside under another name) would act on the wrong container.
  const taskIds = [...new Set(rows.map((r) => r.taskId).filter((id): id is string => !!id))];
  if (taskIds.length === 0) return;
  const [active] = await db
    .select({ id: tasks.id, kind: tasks.kind })
    .from(tasks)
    .where(and(inArray(tasks.id, taskIds), inArray(tasks.status, ["queued", "running"])))
    .limit(1);
  if (active) {
    const row = rows.find((r) => r.taskId === active.id)!;
    throw conflict(`Server ${row.name} is busy with task ${active.id} (${active.kind}): wait for it to end, then retry.`);
  }
}

// ---- create ------------------------------------------------------------------------------------------

export interface CreateServersInput {
  servers: ServerCreateInput[];
  /** A bulk create's addresses: handed out from ip_range in order to servers that name none. */
  network?: BulkNetworkConfig;
  /** Where servers that name no host go (else the organization's default host). */
  hostId?: string;
  /**
   * Where the field errors point (`/body/servers`, `/body`): the adapters' bodies differ. `template`:
   * the servers were made from one template (count + name prefix), whose fields the errors name.
   */
  pointer?: { servers: string; network: string; template?: string };
}

interface Addressing {
  cidr: string;
  gateway: string;
  ip?: string;
  range?: string[];
}

/** The subnet, gateway and address (or address range) a server asks for; null for Docker's default bridge. */
function addressing(own: NetworkConfig | undefined, bulk: BulkNetworkConfig | undefined, at: string, bulkAt: string): Addressing | null {
  const ip = own?.ip_address ?? own?.ip;
  const subnet = own?.subnet ?? bulk?.subnet;
  const gateway = own?.gateway ?? bulk?.gateway;
  const rangeText = ip ? undefined : bulk?.ip_range;
  if (!ip && !rangeText && subnet === undefined && !gateway) return null;
  const errors: FieldError[] = [];
  let range: string[] | undefined;
  if (rangeText !== undefined) {
    range = expandIpRange(rangeText);
    if (!range)
      errors.push({
        pointer: `${bulkAt}/ip_range`,
        detail: "must be an IPv4 range such as 192.168.0.21-192.168.0.30 (first ≤ last, at most 4096 addresses) or a CIDR block",
      });
  }
  if (subnet === undefined) {
    errors.push({ pointer: `${at}/subnet`, detail: 'a static address needs its subnet: a prefix length ("24") or a CIDR block' });
    throw invalid(errors);
  }
  const cidr = subnetCidr(subnet, gateway ?? ip ?? range?.[0]);
  if (!cidr) {
    errors.push({
      pointer: `${at}/subnet`,
      detail: 'must be a prefix length 8–30 ("24"), a netmask or a CIDR block, with a gateway or an address to place it',
    });
    throw invalid(errors);
  }
  if (errors.length) throw invalid(errors);
  const network = cidr.split("/")[0]!;
  const firstHost = firstHostAddress(cidr);
  const gw = gateway ?? firstHost;
  if (!inSubnet(gw, cidr)) throw invalid([{ pointer: `${at}/gateway`, detail: `must be inside the subnet ${cidr}` }]);
  if (ip && (!inSubnet(ip, cidr) || ip === network))
    throw invalid([{ pointer: `${at}/ip_address`, detail: `must be a host address inside the subnet ${cidr}` }]);
  if (ip === gw) throw invalid([{ pointer: `${at}/ip_address`, detail: `is the gateway (${gw}): pick another address` }]);
  if (range) {
    const outside = range.find((a) => !inSubnet(a, cidr));
    if (outside) throw invalid([{ pointer: `${bulkAt}/ip_range`, detail: `${outside} is outside the subnet ${cidr}` }]);
  }
  return { cidr, gateway: gw, ...(ip ? { ip } : {}), ...(range ? { range: range.filter((a) => a !== gw && a !== network) } : {}) };
}

/** Addresses already taken on a host's subnet network: Pier's servers and any other container on it. */
async function usedAddresses(db: Database, env: Bindings, organizationId: string, hostId: string, cidr: string): Promise<Set<string>> {
  const rows = await db
    .select({ ip: servers.ipAddress })
    .from(servers)
    .where(and(eq(servers.hostId, hostId), isNotNull(servers.ipAddress)));
  const used = new Set(rows.map((r) => r.ip!).filter((ip) => inSubnet(ip, cidr)));
  try {
    const net = await runOnOrgHost(db, env, organizationId, hostId, "network.inspect", { id: serverNetworkName(cidr) });
    for (const c of Object.values((net.Containers as Record<string, { IPv4Address?: string }> | undefined) ?? {}))
      if (c.IPv4Address) used.add(c.IPv4Address.split("/")[0]!);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  }
  return used;
}

/**
 * Creates servers (one, or a batch) as one task: the rows now (so names and addresses are taken
 * at once, and a clash is a 409 here), the containers by the task, one after another.
 */
/**
 * A CPU limit (cores) the host can give: Docker refuses `NanoCpus` above the engine's CPU count,
 * which would otherwise surface only when the task creates or updates the container. The count is
 * the one the host's agent said in hello (agent-relay's host-info: the engine's NCPU); a host that
 * has not said one is not checked here, and the engine still refuses.
 */
function checkCpuLimit(host: HostRow, cpu: number | null | undefined, pointer: string): void {
  if (cpu == null || host.cpus == null || cpu <= host.cpus) return;
  throw invalid([
    {
      pointer,
      detail: `asks for ${cpu} CPU cores, but host ${host.name} has ${host.cpus}: give at most ${host.cpus}, or choose a larger host`,
    },
  ]);
}

export async function createServers(
  db: Database,
  env: Bindings,
  actor: Caller,
  input: CreateServersInput,
): Promise<{ task: TaskRow; servers: ServerRow[] }> {
  const p = actor.principal;
  assertPermission(p, "create_server");
  const at = input.pointer ?? { servers: "/body/servers", network: "/body/network" };
  const list = input.servers;
  if (list.length === 0) throw invalid([{ pointer: at.servers, detail: "give at least one server" }]);
  const seen = new Map<string, number>();
  list.forEach((s, i) => {
    const before = seen.get(s.name.toLowerCase());
    if (before !== undefined)
      throw invalid([{ pointer: `${at.servers}/${i}/name`, detail: `${s.name} is given twice (also at ${before}): names are unique` }]);
    seen.set(s.name.toLowerCase(), i);
  });

  // Hosts, projects and roles first: an unknown one is a 404 before anything is written.
  const fallbackHost = input.hostId ?? (await defaultHostId(db, p.organizationId));
  const hostRows = new Map<string, HostRow>();
  const roles = new Map<string, ServerRoleRow>();
  for (const s of list) {
    const hostId = s.host_id ?? fallbackHost;
    if (!hostId) throw conflict("The organization has no host yet: attach a host first (POST /api/v1/hosts), then create servers on it.");
    if (!hostRows.has(hostId)) {
      const host = await getHost(db, p.organizationId, hostId);
      requireOnline(host);
      hostRows.set(hostId, host);
    }
    if (s.project_id) await getProject(db, p, s.project_id);
    if (s.role && !roles.has(s.role)) {
      const role = await getRole(db, env, p.organizationId, s.role);
      await requireRoleGroups(db, p.organizationId, role.name, role.firewallGroups);
      roles.set(s.role, role);
    }
  }

  // CPU limits beyond the host's cores: Docker refuses them only when the container is made.
  list.forEach((s, i) => {
    const host = hostRows.get((s.host_id ?? fallbackHost)!)!;
    const field = at.template ? at.template : at.servers === "/body" ? "/body" : `${at.servers}/${i}`;
    checkCpuLimit(host, s.cpu, `${field}/cpu`);
  });

  // Addresses: explicit ones checked, the rest handed out from the range in order, skipping used ones.
  const plans = list.map((s, i) => ({
    s,
    hostId: (s.host_id ?? fallbackHost)!,
    net: addressing(s.network, input.network, s.network ? `${at.servers}/${i}/network` : at.network, at.network),
  }));
  const used = new Map<string, Set<string>>();
  const usedOn = async (hostId: string, cidr: string) => {
    const key = `${hostId} ${cidr}`;
    let set = used.get(key);
    if (!set) {
      set = await usedAddresses(db, env, p.organizationId, hostId, cidr);
      used.set(key, set);
    }
    return set;
  };
  for (const [i, plan] of plans.entries()) {
    if (!plan.net?.ip) continue;
    const set = await usedOn(plan.hostId, plan.net.cidr);
    if (set.has(plan.net.ip)) throw conflict(`The address ${plan.net.ip} (server ${list[i]!.name}) is already in use on its host.`);
    set.add(plan.net.ip);
  }
  for (const plan of plans) {
    if (!plan.net || plan.net.ip || !plan.net.range) continue;
    const set = await usedOn(plan.hostId, plan.net.cidr);
    const free = plan.net.range.find((a) => !set.has(a));
    if (!free) {
      const wanted = plans.filter((x) => x.net?.range && !x.net.ip).length;
      throw invalid([
        {
          pointer: `${at.network}/ip_range`,
          detail: `has no free address left for ${plan.s.name}: ${wanted} server(s) need one, and the range's other addresses are taken or are the gateway`,
        },
      ]);
    }
    set.add(free);
    plan.net = { ...plan.net, ip: free };
  }

  const now = nowIso();
  const rows: ServerRow[] = [];
  for (const { s, hostId, net } of plans) {
    const role = s.role ? roles.get(s.role)! : null;
    const id = newId("srv");
    const config: ServerConfig = {
      ...((s.command ?? role?.command) ? { command: s.command ?? role!.command! } : {}),
      ports: s.ports ?? role?.ports ?? [],
      ...(role?.healthCheck ? { health_check: role.healthCheck } : {}),
      data_path: role?.dataPath ?? DEFAULT_DATA_PATH,
      ...(net ? { subnet: net.cidr, gateway: net.gateway } : {}),
      firewall_groups: role?.firewallGroups ?? [],
    };
    rows.push({
      id,
      organizationId: p.organizationId,
      alias: 0,
      name: s.name,
      hostId,
      projectId: s.project_id ?? null,
      role: role?.name ?? null,
      image: s.image ?? role!.image,
      cpu: s.cpu ?? null,
      memoryMb: s.memory_mb ?? null,
      diskGb: s.disk_gb ?? null,
      ipAddress: net?.ip ?? null,
      networkId: null,
      networkName: net ? serverNetworkName(net.cidr) : null,
      volumeName: serverVolumeName({ id, name: s.name }),
      containerId: null,
      status: "creating",
      lastError: null,
      taskId: null,
      config,
      envEncrypted: s.env && Object.keys(s.env).length ? await encryptSecret(JSON.stringify(s.env), env.ENCRYPTION_KEY) : null,
      createdBy: p.userId,
      createdAt: now,
      updatedAt: now,
    });
  }
  // One batch (a transaction): all the rows or none. Each alias is the next in the organization,
  // computed in its own statement, so rows of one batch get consecutive ones.
  const nextAlias = sql<number>`(select coalesce(max(${servers.alias}), 0) + 1 from ${servers} where ${servers.organizationId} = ${p.organizationId})`;
  const inserts = rows.map((r) =>
    db
      .insert(servers)
      .values({ ...r, alias: nextAlias })
      .returning(),
  );
  let inserted: ServerRow[];
  try {
    const results = (await db.batch(inserts as unknown as [(typeof inserts)[number], ...(typeof inserts)[number][]])) as ServerRow[][];
    inserted = results.map((r) => r[0]!);
  } catch (error) {
    if (isUniqueViolation(error, "servers", "name")) {
      const taken = await db
        .select({ name: servers.name })
        .from(servers)
        .where(
          and(
            eq(servers.organizationId, p.organizationId),
            inArray(
              servers.name,
              rows.map((r) => r.name),
            ),
          ),
        );
      throw conflict(
        `A server named ${taken.map((t) => t.name).join(", ") || "like one of these"} already exists in this organization: pick another name.`,
      );
    }
    if (isUniqueViolation(error, "servers", "ip_address"))
      throw conflict("One of the addresses was taken a moment ago by another server on its host: retry.");
    if (isUniqueViolation(error, "servers", "alias")) throw conflict("Another create took the same ids at once: retry.");
    throw error;
  }
  const task = await startServerTask(db, env, actor, "create", inserted, { start: list.every((s) => s.start !== false) });
  return { task, servers: inserted.map((r) => ({ ...r, taskId: task.id })) };
}

/** `count` servers named `<prefix>-01`… (two digits at least), from one template. */
export function numberedNames(prefix: string, count: number, start = 1): string[] {
  const width = Math.max(2, String(start + count - 1).length);
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(start + i).padStart(width, "0")}`);
}

// ---- actions -------------------------------------------------------------------------------------------

export const SERVER_ACTIONS = ["start", "stop", "reboot"] as const;
export type ServerAction = (typeof SERVER_ACTIONS)[number];

/** Start, stop or reboot servers (one or many) as one task. */
export async function serverAction(
  db: Database,
  env: Bindings,
  actor: Caller,
  refs: readonly (string | number)[],
  action: ServerAction,
): Promise<{ task: TaskRow; servers: ServerRow[] }> {
  const p = actor.principal;
  assertPermission(p, "manage_servers");
  const rows = await getServers(db, p.organizationId, refs, await serverScope(db, p));
  await requireSettled(db, rows);
  await requireHostsOnline(db, p.organizationId, rows);
  return { task: await startServerTask(db, env, actor, action, rows), servers: rows };
}

/** Deletes servers: their containers, and their data volumes unless keep_data. */
export async function deleteServers(
  db: Database,
  env: Bindings,
  actor: Caller,
  refs: readonly (string | number)[],
  options: { keepData?: boolean } = {},
): Promise<{ task: TaskRow; servers: ServerRow[] }> {
  const p = actor.principal;
  assertPermission(p, "manage_servers");
  const rows = await getServers(db, p.organizationId, refs, await serverScope(db, p));
  // A delete whose task ended without removing the row (its runner was interrupted) may be run again.
  for (const r of rows.filter((r) => r.status === "deleting")) {
    const task = r.taskId ? await getTask(db, p.organizationId, r.taskId).catch(() => null) : null;
    if (task && !isFinished(task.status)) throw conflict(`Server ${r.name} is being deleted already (task ${task.id}).`);
  }
  await requireHostsOnline(db, p.organizationId, rows, true);
  const hostless = rows.filter((r) => !r.hostId);
  // A server whose host is gone has nothing left to remove but its row.
  for (const r of hostless) await db.delete(servers).where(eq(servers.id, r.id));
  const rest = rows.filter((r) => r.hostId);
  if (!rest.length) {
    const task = await createTask(db, {
      organizationId: p.organizationId,
      kind: "server.delete",
      message: "Deleted servers without a host.",
    });
    await updateTask(db, task.id, {
      status: "succeeded",
      message: `Deleted ${hostless.map((r) => r.name).join(", ")} (their host was gone).`,
    });
    await recordAudit(db, actor, {
      organizationId: p.organizationId,
      action: "server.delete",
      targetType: "server",
      metadata: { servers: hostless.map((r) => r.name), task_id: task.id },
    });
    return { task: await getTask(db, p.organizationId, task.id), servers: rows };
  }
  await db
    .update(servers)
    .set({ status: "deleting", updatedAt: nowIso() })
    .where(
      inArray(
        servers.id,
        rest.map((r) => r.id),
      ),
    );
  const task = await startServerTask(
    db,
    env,
    actor,
    "delete",
    rest,
    { keepData: options.keepData ?? false },
    { keep_data: options.keepData ?? false },
  );
  return { task, servers: rows };
}

// ---- recreate: roles, configuration, disks -------------------------------------------------------------

function roleChange(row: ServerRow, role: ServerRoleRow | null): ServerChange {
  if (!role) {
    // Without a role the server keeps its image, data path and ports; the role's health check and firewall defaults go.
    const { health_check: _h, ...config } = row.config;
    return { role: null, config: { ...config, firewall_groups: [] } };
  }
  return {
    role: role.name,
    image: role.image,
    config: {
      ...row.config,
      command: role.command ?? undefined,
      ports: role.ports,
      health_check: role.healthCheck ?? undefined,
      data_path: role.dataPath,
      firewall_groups: role.firewallGroups,
    },
  };
}

/** Assigns a role to servers (or removes theirs, with null): each is recreated from the template, keeping its data volume and address. */
export async function assignRole(
  db: Database,
  env: Bindings,
  actor: Caller,
  refs: readonly (string | number)[],
  roleName: string | null,
): Promise<{ task: TaskRow; servers: ServerRow[]; role: ServerRoleRow | null }> {
  const p = actor.principal;
  assertPermission(p, "assign_roles");
  const role = roleName ? await getRole(db, env, p.organizationId, roleName) : null;
  if (role) await requireRoleGroups(db, p.organizationId, role.name, role.firewallGroups);
  const rows = await getServers(db, p.organizationId, refs, await serverScope(db, p));
  await requireSettled(db, rows);
  await requireHostsOnline(db, p.organizationId, rows);
  const changes = Object.fromEntries(rows.map((r) => [r.id, roleChange(r, role)]));
  const task = await startServerTask(
    db,
    env,
    actor,
    "recreate",
    rows,
    { changes },
    { role: roleName, change: roleName ? "assign_role" : "remove_role" },
  );
  return { task, servers: rows, role };
}

export interface ConfigPatch {
  cpu?: number | null;
  memory_mb?: number | null;
  disk_gb?: number | null;
  image?: string;
  env?: Record<string, string>;
  command?: string[] | null;
  ports?: ServerConfig["ports"];
}

/**
 * Changes a server's configuration: CPU and memory limits live (`docker update`), the disk size in
 * the row (a quota applies at the next recreate), image, environment, command and ports by a
 * recreate task that keeps its volume and address.
 */
export async function updateServerConfig(
  db: Database,
  env: Bindings,
  actor: Caller,
  ref: string | number,
  patch: ConfigPatch,
): Promise<{ server: ServerRow; task: TaskRow | null; live: string[]; recreate: string[] }> {
  const p = actor.principal;
  assertPermission(p, "manage_servers");
  const row = await getServer(db, p.organizationId, ref, await serverScope(db, p));
  await requireSettled(db, [row]);
  const live: string[] = [];
  const recreate: string[] = [];
  const set: Partial<ServerRow> = { updatedAt: nowIso() };
  const update: { cpus?: number; memory?: number; memory_swap?: number } = {};
  if (patch.cpu !== undefined && patch.cpu !== row.cpu) {
    if (patch.cpu !== null && row.hostId) checkCpuLimit(await getHost(db, p.organizationId, row.hostId), patch.cpu, "/body/cpu");
    live.push("cpu");
    set.cpu = patch.cpu;
    // 0 lifts a limit in `docker update`'s terms only as a quota of -1; cpus cannot be 0, so no limit means every core.
    if (patch.cpu !== null) update.cpus = patch.cpu;
  }
  if (patch.memory_mb !== undefined && patch.memory_mb !== row.memoryMb) {
    live.push("memory_mb");
    set.memoryMb = patch.memory_mb;
    if (patch.memory_mb !== null) {
      update.memory = patch.memory_mb * 1024 * 1024;
      // Docker's default swap is as much again; kept so, as the limit moves either way.
      update.memory_swap = update.memory * 2;
    }
  }
  if (patch.disk_gb !== undefined && patch.disk_gb !== row.diskGb) {
    set.diskGb = patch.disk_gb;
    (row.config.disk_quota ? recreate : live).push("disk_gb");
  }
  const change: ServerChange = {};
  if (patch.image !== undefined && patch.image !== row.image) {
    change.image = patch.image;
    recreate.push("image");
  }
  if (patch.env !== undefined) {
    change.envEncrypted = Object.keys(patch.env).length ? await encryptSecret(JSON.stringify(patch.env), env.ENCRYPTION_KEY) : null;
    recreate.push("env");
  }
  if (patch.command !== undefined || patch.ports !== undefined) {
    const config = { ...row.config };
    if (patch.command !== undefined) {
      if (patch.command === null) delete config.command;
      else config.command = patch.command;
      recreate.push("command");
    }
    if (patch.ports !== undefined) {
      config.ports = patch.ports;
      recreate.push("ports");
    }
    change.config = config;
  }
  if (Object.keys(update).length) {
    if (!row.hostId) throw conflict(`Server ${row.name} has no host any more: delete or clean it up.`);
    await runOnOrgHost(db, env, p.organizationId, row.hostId, "container.update", {
      id: row.containerId ?? serverContainerName(row),
      ...update,
    });
  }
  const [updated] = await db.update(servers).set(set).where(eq(servers.id, row.id)).returning();
  let task: TaskRow | null = null;
  if (recreate.length) {
    await requireHostsOnline(db, p.organizationId, [updated!]);
    task = await startServerTask(
      db,
      env,
      actor,
      "recreate",
      [updated!],
      { changes: { [row.id]: change } },
      { change: "config", fields: recreate },
    );
  }
  if (live.length)
    await recordAudit(db, actor, {
      organizationId: p.organizationId,
      action: "server.config",
      targetType: "server",
      targetId: row.id,
      metadata: { fields: live, cpu: updated!.cpu, memory_mb: updated!.memoryMb, disk_gb: updated!.diskGb },
    });
  return { server: task ? { ...updated!, taskId: task.id } : updated!, task, live, recreate };
}

/** Adds a data volume (004's disk) mounted at `mount_path`: a recreate task. */
export async function addServerDisk(
  db: Database,
  env: Bindings,
  actor: Caller,
  ref: string | number,
  input: { device?: string; mount_path?: string; size_gb?: number | null },
): Promise<{ task: TaskRow; server: ServerRow; device: string; mountPath: string; volumeName: string }> {
  const p = actor.principal;
  assertPermission(p, "manage_servers");
  const row = await getServer(db, p.organizationId, ref, await serverScope(db, p));
  await requireSettled(db, [row]);
  const disks = await serverDisksOf(db, row.id);
  let device = input.device;
  if (!device) for (let n = disks.length + 1; !device || disks.some((d) => d.device === device); n++) device = `disk${n}`;
  if (disks.some((d) => d.device === device)) throw conflict(`Server ${row.name} already has a disk ${device}.`);
  const mountPath = input.mount_path ?? `/mnt/${device}`;
  if (mountPath === (row.config.data_path ?? DEFAULT_DATA_PATH) || disks.some((d) => d.mountPath === mountPath))
    throw conflict(`${mountPath} is already a mount of server ${row.name}: pick another mount_path.`);
  await requireHostsOnline(db, p.organizationId, [row]);
  const volumeName = `${serverContainerName(row)}-${device}`;
  const change: ServerChange = { addDisk: { id: newId("sdk"), device, volumeName, mountPath, sizeGb: input.size_gb ?? null } };
  const task = await startServerTask(db, env, actor, "recreate", [row], { changes: { [row.id]: change } }, { change: "disk_add", device });
  return { task, server: row, device, mountPath, volumeName };
}

/** Removes a disk: a recreate task without it; its volume goes too unless keep_data. */
export async function removeServerDisk(
  db: Database,
  env: Bindings,
  actor: Caller,
  ref: string | number,
  device: string,
  options: { keepData?: boolean } = {},
): Promise<{ task: TaskRow; server: ServerRow }> {
  const p = actor.principal;
  assertPermission(p, "manage_servers");
  const row = await getServer(db, p.organizationId, ref, await serverScope(db, p));
  await requireSettled(db, [row]);
  const disk = (await serverDisksOf(db, row.id)).find((d) => d.device === device);
  if (!disk) throw notFound(`Disk ${device} of server ${row.name}`);
  await requireHostsOnline(db, p.organizationId, [row]);
  const change: ServerChange = { removeDisk: { device, keepData: options.keepData ?? false } };
  const task = await startServerTask(
    db,
    env,
    actor,
    "recreate",
    [row],
    { changes: { [row.id]: change } },
    { change: "disk_remove", device },
  );
  return { task, server: row };
}

// ---- reading the hosts: logs, status, sync ---------------------------------------------------------------

export async function serverLogs(db: Database, env: Bindings, principal: Principal, ref: string | number, tail: number) {
  const row = await getServer(db, principal.organizationId, ref, await serverScope(db, principal));
  if (!row.hostId) throw conflict(`Server ${row.name} has no host any more.`);
  if (!row.containerId) throw conflict(`Server ${row.name} has no container yet (${row.status}).`);
  const logs = await runOnOrgHost(db, env, principal.organizationId, row.hostId, "container.logs", {
    id: row.containerId,
    tail,
    timestamps: true,
  });
  return { server: row, lines: logs.lines, truncated: logs.truncated };
}

export interface StatusChange {
  server_id: string;
  name: string;
  from: ServerStatus;
  to: ServerStatus;
}

/**
 * Reads the real state of the given servers' containers (one container list per host) and writes
 * any status that moved. Servers being made or removed are left to their task; hosts that are not
 * connected keep their last known status.
 */
export async function refreshStatuses(
  db: Database,
  env: Bindings,
  organizationId: string,
  rows: ServerRow[],
): Promise<{ rows: ServerRow[]; changes: StatusChange[]; unreachable: string[] }> {
  const byHost = new Map<string, ServerRow[]>();
  for (const r of rows) if (r.hostId) byHost.set(r.hostId, [...(byHost.get(r.hostId) ?? []), r]);
  const hostRows = await hostsOf(db, organizationId, rows);
  const changes: StatusChange[] = [];
  const unreachable: string[] = [];
  const out = new Map(rows.map((r) => [r.id, r]));
  await Promise.all(
    [...byHost].map(async ([hostId, list]) => {
      const host = hostRows.get(hostId);
      if (!host || effectiveState(host) !== "online") {
        unreachable.push(hostId);
        return;
      }
      let containers: Awaited<ReturnType<typeof serverContainersOn>>;
      try {
        containers = await serverContainersOn(env, hostId);
      } catch {
        unreachable.push(hostId);
        return;
      }
      const found = new Map(
        containers.filter((c) => c.organizationId === undefined || c.organizationId === organizationId).map((c) => [c.serverId, c]),
      );
      for (const r of list) {
        if (r.status === "creating" || r.status === "deleting") continue;
        const c = found.get(r.id);
        const to: ServerStatus = c ? statusOfState(c.state) : "error";
        const lastError = c
          ? to === "error"
            ? "Its container is dead."
            : null
          : `Its container ${serverContainerName(r)} is missing on the host.`;
        if (to === r.status && (c?.id ?? r.containerId) === r.containerId && lastError === r.lastError) continue;
        const set = { status: to, lastError, containerId: c?.id ?? r.containerId, updatedAt: nowIso() };
        await db.update(servers).set(set).where(eq(servers.id, r.id));
        if (to !== r.status) changes.push({ server_id: r.id, name: r.name, from: r.status, to });
        out.set(r.id, { ...r, ...set });
      }
    }),
  );
  return { rows: rows.map((r) => out.get(r.id)!), changes, unreachable };
}

/** 004's `sync_servers`: every host's server containers against the rows — missing ones are errors, orphans reported. */
export async function syncServers(db: Database, env: Bindings, actor: Caller) {
  const p = actor.principal;
  assertPermission(p, "manage_servers");
  const rows = await listServers(db, p.organizationId, await serverScope(db, p));
  const refreshed = await refreshStatuses(db, env, p.organizationId, rows);
  const orgHosts = await db.select().from(hosts).where(eq(hosts.organizationId, p.organizationId));
  const known = new Set(
    (await db.select({ id: servers.id }).from(servers).where(eq(servers.organizationId, p.organizationId))).map((r) => r.id),
  );
  const orphans: Array<{ host_id: string; container_id: string; container_name: string; server_id: string; state: string }> = [];
  const hostReport: Array<{ host_id: string; name: string; state: string; checked: boolean }> = [];
  for (const h of orgHosts) {
    const state = effectiveState(h);
    let checked = false;
    if (state === "online") {
      try {
        for (const c of await serverContainersOn(env, h.id)) {
          // Another organization's server containers are none of this sync's business (hosts are per organization; engines shared by tests are not).
          if (!known.has(c.serverId) && (c.organizationId === undefined || c.organizationId === p.organizationId))
            orphans.push({ host_id: h.id, container_id: c.id, container_name: c.name, server_id: c.serverId, state: c.state });
        }
        checked = true;
      } catch {
        checked = false;
      }
    }
    hostReport.push({ host_id: h.id, name: h.name, state, checked });
  }
  const missing = refreshed.rows.filter((r) => r.status === "error" && r.lastError?.includes("missing")).map((r) => r.name);
  await recordAudit(db, actor, {
    organizationId: p.organizationId,
    action: "server.sync",
    metadata: { changes: refreshed.changes.length, missing, orphans: orphans.length },
  });
  return { servers: refreshed.rows, changes: refreshed.changes, missing, orphans, hosts: hostReport };
}

// ---- cleanup ---------------------------------------------------------------------------------------------

export interface FailedServer {
  server: ServerRow;
  reasons: string[];
  task: { id: string; status: string; message: string | null } | null;
}

/** Why a server counts as failed: its create task failed, its container is dead or missing, its host is gone. */
async function failureOf(db: Database, row: ServerRow): Promise<FailedServer> {
  const reasons: string[] = [];
  let task: FailedServer["task"] = null;
  if (row.taskId) {
    const [t] = await db.select().from(tasks).where(eq(tasks.id, row.taskId)).limit(1);
    if (t) {
      task = { id: t.id, status: t.status, message: t.message };
      // A bulk create fails when one of its servers does: the others, made fine, are not failed.
      const items = (t.result as { items?: { server_id: string; ok: boolean; error?: string }[] } | null)?.items;
      const mine = items?.find((i) => i.server_id === row.id);
      if (t.kind === "server.create" && (t.status === "failed" || t.status === "cancelled") && !mine?.ok)
        reasons.push(mine?.error ? `its create failed: ${mine.error}` : `its create task ${t.status}: ${t.message ?? ""}`.trim());
    }
  }
  if (!row.hostId) reasons.push("its host was deleted");
  if (row.status === "error" && row.lastError && !reasons.some((r) => r.includes(row.lastError!))) reasons.push(row.lastError);
  if (row.status === "error" && reasons.length === 0) reasons.push("its status is error");
  return { server: row, reasons, task };
}

/** 004's `cleanup/failed-servers`: servers in error (after a live status read) and why. */
export async function failedServerList(db: Database, env: Bindings, principal: Principal): Promise<FailedServer[]> {
  const rows = await listServers(db, principal.organizationId, await serverScope(db, principal));
  const { rows: fresh } = await refreshStatuses(db, env, principal.organizationId, rows);
  const out: FailedServer[] = [];
  for (const r of fresh) {
    const f = await failureOf(db, r);
    if (f.reasons.length) out.push(f);
  }
  return out;
}

export async function cleanupStatus(db: Database, env: Bindings, principal: Principal, ref: string | number) {
  const row = await getServer(db, principal.organizationId, ref, await serverScope(db, principal));
  const { rows } = await refreshStatuses(db, env, principal.organizationId, [row]);
  const f = await failureOf(db, rows[0]!);
  return { ...f, failed: f.reasons.length > 0 };
}

/** Cleans failed servers up (the named ones, or every failed one): container and leftovers removed, rows deleted, as a delete task. */
export async function cleanServers(
  db: Database,
  env: Bindings,
  actor: Caller,
  refs: readonly (string | number)[] | "failed",
  options: { keepData?: boolean; force?: boolean } = {},
): Promise<{ task: TaskRow | null; servers: ServerRow[] }> {
  const p = actor.principal;
  assertPermission(p, "manage_servers");
  let rows: ServerRow[];
  if (refs === "failed") rows = (await failedServerList(db, env, p)).map((f) => f.server);
  else {
    rows = await getServers(db, p.organizationId, refs, await serverScope(db, p));
    if (!options.force) {
      const { rows: fresh } = await refreshStatuses(db, env, p.organizationId, rows);
      for (const r of fresh) {
        if ((await failureOf(db, r)).reasons.length === 0)
          throw conflict(`Server ${r.name} has not failed (${r.status}): delete it instead, or clean it with "force": true.`);
      }
      rows = fresh;
    }
  }
  if (!rows.length) return { task: null, servers: [] };
  const { task } = await deleteServers(
    db,
    env,
    actor,
    rows.map((r) => r.id),
    options,
  );
  return { task, servers: rows };
}

// ---- datastores ------------------------------------------------------------------------------------------

/**
 * 004's datastores (Proxmox storages), on Docker hosts: each host's storage driver (and whether it
 * can enforce a size quota) and its volume drivers with the space their volumes use; servers'
 * volumes with their usage against `disk_gb`.
 */
export async function datastores(db: Database, env: Bindings, principal: Principal) {
  const org = principal.organizationId;
  const orgHosts = await db.select().from(hosts).where(eq(hosts.organizationId, org));
  const rows = await listServers(db, org, await serverScope(db, principal));
  return Promise.all(
    orgHosts.map(async (h) => {
      const state = effectiveState(h);
      const base = { host_id: h.id, node: h.name, state };
      if (state !== "online") return { ...base, available: false, error: `The host is ${state.replace("_", " ")}.` };
      try {
        const info = await runOnOrgHost(db, env, org, h.id, "system.info", {});
        const usage = await volumeUsage(env, h.id);
        const status = (info.DriverStatus as [string, string][] | undefined) ?? [];
        const backing = status.find(([k]) => k === "Backing Filesystem")?.[1] ?? null;
        const driver = String(info.Driver ?? "");
        const drivers = new Map<string, { name: string; volumes: number; used_bytes: number }>();
        for (const v of usage.values()) {
          const d = drivers.get(v.Driver) ?? { name: v.Driver, volumes: 0, used_bytes: 0 };
          d.volumes++;
          d.used_bytes += Math.max(0, v.UsageData?.Size ?? 0);
          drivers.set(v.Driver, d);
        }
        for (const name of ((info.Plugins as { Volume?: string[] } | undefined)?.Volume ?? []) as string[])
          if (!drivers.has(name)) drivers.set(name, { name, volumes: 0, used_bytes: 0 });
        const serverVolumes = rows
          .filter((r) => r.hostId === h.id)
          .map((r) => {
            const used = usage.get(r.volumeName)?.UsageData?.Size ?? null;
            return {
              server_id: r.id,
              server: r.name,
              volume: r.volumeName,
              used_bytes: used !== null && used >= 0 ? used : null,
              disk_gb: r.diskGb,
              quota: r.config.disk_quota === true,
              usage_percent: used !== null && used >= 0 && r.diskGb ? Math.round((used / (r.diskGb * 1024 ** 3)) * 10_000) / 100 : null,
            };
          });
        return {
          ...base,
          available: true,
          storage_driver: driver,
          backing_filesystem: backing,
          docker_root_dir: info.DockerRootDir ?? null,
          quota_supported: driver === "btrfs" || driver === "zfs" || (driver === "overlay2" && backing === "xfs"),
          volume_drivers: [...drivers.values()],
          server_volumes: serverVolumes,
        };
      } catch (error) {
        return { ...base, available: false, error: error instanceof Error ? error.message : errorText(error) };
      }
    }),
  );
}
