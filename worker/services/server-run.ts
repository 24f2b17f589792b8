// What a server task does on its hosts, run by its TaskRunner off the request path (the request
// recorded the task and, for a create, the rows): create, start, stop, reboot, delete and recreate
// (a role, image, configuration or disk change) of one or more servers, one after another, each
// server's outcome in the task's result. Rows change only once their host did what was asked.
import type { OpArgs, OpName, OpResult, VolumeJson } from "#protocol";
import { ORG_LABEL, SERVER_LABEL, SERVER_NETWORK_LABEL } from "#protocol";
import { and, eq, ne } from "drizzle-orm";
import { createDatabase, type Database } from "../db/client.ts";
import { serverDisks, servers, type ServerConfig, type ServerStatus } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { decryptSecret } from "../lib/crypto.ts";
import { type CommandOutcome, describeRelayError } from "../lib/relay.ts";
import { nowIso } from "../lib/time.ts";
import { errorText } from "../db/errors.ts";
import { applyRoleGroups, removeServerFirewall } from "./firewall.ts";
import { DEFAULT_DATA_PATH, getRole, roleEnv } from "./server-roles.ts";
import { serverContainerName, serverDisksOf, serverLabels, type ServerDiskRow, type ServerRow } from "./servers.ts";
import type { TaskPatch } from "./tasks.ts";

export const SERVER_TASK_OPS = ["create", "start", "stop", "reboot", "delete", "recreate"] as const;
export type ServerTaskOp = (typeof SERVER_TASK_OPS)[number];

/** A change a recreate makes, written to the row (and its disks) only once the new container runs. */
export interface ServerChange {
  role?: string | null;
  image?: string;
  config?: ServerConfig;
  envEncrypted?: string | null;
  addDisk?: { id: string; device: string; volumeName: string; mountPath: string; sizeGb: number | null };
  removeDisk?: { device: string; keepData: boolean };
}

export interface ServerTaskSpec {
  kind: `server.${ServerTaskOp}`;
  taskId: string;
  organizationId: string;
  timeoutMs: number;
  /** In the order they are worked on. */
  serverIds: string[];
  /** delete: keep the data volumes. */
  keepData?: boolean;
  /** create: start the servers once made (default true). */
  start?: boolean;
  /** recreate: per server id. */
  changes?: Record<string, ServerChange>;
}

export interface ServerTaskHooks {
  signal: AbortSignal;
  progress(patch: TaskPatch): void;
}

export interface ServerItem {
  server_id: string;
  name: string;
  ok: boolean;
  status?: ServerStatus;
  ip_address?: string | null;
  error?: string;
}

const VERBS: Record<ServerTaskOp, [string, string]> = {
  create: ["Creating", "Created"],
  start: ["Starting", "Started"],
  stop: ["Stopping", "Stopped"],
  reboot: ["Rebooting", "Rebooted"],
  delete: ["Deleting", "Deleted"],
  recreate: ["Recreating", "Recreated"],
};

class HostFailure extends Error {
  constructor(
    readonly op: OpName,
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** One command on a host; a failure throws a HostFailure saying which step broke. */
async function onHost<O extends OpName>(env: Bindings, hostId: string, op: O, args: OpArgs<O>): Promise<OpResult<O>> {
  const outcome = (await env.HOST_RELAY.getByName(hostId).command(op, args)) as CommandOutcome;
  if (!outcome.ok) throw new HostFailure(op, outcome.error.code, describeRelayError(op, outcome.error), outcome.error.status);
  return outcome.data as OpResult<O>;
}

const isMissing = (error: unknown) => error instanceof HostFailure && (error.code === "not_found" || error.status === 404);

/** Runs a server task to its end; the runner writes the returned patch as the task's last word. */
export async function runServerTask(env: Bindings, spec: ServerTaskSpec, hooks: ServerTaskHooks): Promise<TaskPatch> {
  const db = createDatabase(env);
  const op = spec.kind.slice("server.".length) as ServerTaskOp;
  const [doing, done] = VERBS[op];
  const items: ServerItem[] = [];
  const quota = new Map<string, Promise<boolean>>();
  const total = spec.serverIds.length;
  for (const [index, id] of spec.serverIds.entries()) {
    if (hooks.signal.aborted) break;
    const [row] = await db
      .select()
      .from(servers)
      .where(and(eq(servers.organizationId, spec.organizationId), eq(servers.id, id)))
      .limit(1);
    if (!row) {
      items.push({ server_id: id, name: id, ok: false, error: "The server was deleted meanwhile." });
      continue;
    }
    hooks.progress({
      progress: Math.floor((index / total) * 100),
      message: `${doing} ${row.name} (${index + 1} of ${total})`,
      result: { op, items },
    });
    try {
      if (!row.hostId) throw new Error("Its host was deleted: delete the server (or clean it up) and create it again.");
      const hostId = row.hostId;
      let item: ServerItem;
      switch (op) {
        case "create":
          item = await createOne(env, db, row, hostId, spec.start ?? true, quota);
          break;
        case "start":
        case "stop":
        case "reboot":
          item = await actOn(env, db, row, hostId, op);
          break;
        case "delete":
          item = await deleteOne(env, db, row, hostId, spec.keepData ?? false);
          break;
        case "recreate":
          item = await recreateOne(env, db, row, hostId, spec.changes?.[id] ?? {}, quota);
          break;
      }
      items.push(item);
    } catch (error) {
      const message = error instanceof Error ? error.message : errorText(error);
      items.push({ server_id: row.id, name: row.name, ok: false, error: message });
      await failRow(db, row, op, message);
    }
    hooks.progress({
      progress: Math.floor(((index + 1) / total) * 100),
      message: `${doing} ${index + 1} of ${total}`,
      result: { op, items },
    });
  }
  const failed = items.filter((i) => !i.ok);
  const names = (list: ServerItem[]) => list.map((i) => i.name).join(", ");
  if (hooks.signal.aborted && items.length < total)
    throw hooks.signal.reason instanceof Error ? hooks.signal.reason : new Error(`Stopped after ${items.length} of ${total} servers.`);
  if (failed.length === 0)
    return {
      status: "succeeded",
      progress: 100,
      message: `${done} ${total} server${total === 1 ? "" : "s"}: ${names(items)}.`,
      result: { op, items },
    };
  const first = failed[0]!;
  return {
    status: "failed",
    progress: 100,
    message: `${failed.length} of ${total} failed (${first.name}: ${first.error})${failed.length > 1 ? "; see result.items" : ""}.`,
    result: { op, items },
  };
}

/** A failed step leaves the row saying so (a failed delete or create is an error the user can clean up). */
async function failRow(db: Database, row: ServerRow, op: ServerTaskOp, message: string) {
  const status: ServerStatus | undefined = op === "create" || op === "delete" ? "error" : undefined;
  await db
    .update(servers)
    .set({ lastError: message, updatedAt: nowIso(), ...(status ? { status } : {}) })
    .where(eq(servers.id, row.id))
    .catch(() => undefined);
}

// ---- what a server's container is ---------------------------------------------------------------

/** Docker's state → the server's status. */
export function statusOfState(state: string | undefined): ServerStatus {
  switch (state) {
    case "running":
      return "running";
    case "paused":
      return "paused";
    case "restarting":
      return "restarting";
    case "removing":
      return "deleting";
    case "dead":
      return "error";
    default:
      // created, exited
      return "stopped";
  }
}

/** A health check as the shell command Docker's HEALTHCHECK runs (an HTTP path is probed with wget or curl). */
function healthCommand(hc: ServerConfig["health_check"]): OpArgs<"container.create">["health_check"] {
  if (!hc) return undefined;
  const timing = {
    ...(hc.interval_seconds ? { interval_seconds: hc.interval_seconds } : {}),
    ...(hc.timeout_seconds ? { timeout_seconds: hc.timeout_seconds } : {}),
    ...(hc.retries ? { retries: hc.retries } : {}),
    ...(hc.start_period_seconds !== undefined ? { start_period_seconds: hc.start_period_seconds } : {}),
  };
  if (hc.command) return { command: hc.command, ...timing };
  if (!hc.http_path) return undefined;
  const url = `http://127.0.0.1:${hc.port ?? 80}${hc.http_path}`;
  return { command: `wget -q -O /dev/null '${url}' || curl -fsS -o /dev/null '${url}'`, ...timing };
}

/** The server's network on its host: a user-defined bridge per subnet, shared by the servers in it. */
export const serverNetworkName = (cidr: string): string => `pier-srv-${cidr.replace("/", "-")}`;

/** Makes the subnet's bridge network on the host unless it is there; its id. */
async function ensureNetwork(env: Bindings, hostId: string, cidr: string, gateway: string | undefined): Promise<string> {
  const name = serverNetworkName(cidr);
  try {
    const found = await onHost(env, hostId, "network.inspect", { id: name });
    return String(found.Id ?? name);
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  try {
    const made = await onHost(env, hostId, "network.create", {
      name,
      driver: "bridge",
      subnet: cidr,
      ...(gateway ? { gateway } : {}),
      labels: { [SERVER_NETWORK_LABEL]: cidr },
    });
    return made.id;
  } catch (error) {
    // Another task made it a moment ago.
    if (error instanceof HostFailure && error.code === "conflict") {
      const found = await onHost(env, hostId, "network.inspect", { id: name });
      return String(found.Id ?? name);
    }
    throw new Error(`Could not create the network ${name} for ${cidr} on the host: ${(error as Error).message}`);
  }
}

/**
 * Whether the host's storage driver can limit a container's size (`--storage-opt size`): btrfs,
 * zfs, and overlay2 on xfs (which also needs the pquota mount option; a refusal is caught).
 */
async function storageQuota(env: Bindings, hostId: string): Promise<boolean> {
  const info = await onHost(env, hostId, "system.info", {});
  const driver = String(info.Driver ?? "");
  const status = (info.DriverStatus as [string, string][] | undefined) ?? [];
  const backing = status.find(([k]) => k === "Backing Filesystem")?.[1];
  return driver === "btrfs" || driver === "zfs" || (driver === "overlay2" && backing === "xfs");
}

interface Planned {
  args: OpArgs<"container.create">;
  quota: boolean;
}

/** The container a server row (with its role and disks) runs as. */
async function planContainer(
  env: Bindings,
  db: Database,
  row: ServerRow,
  disks: ServerDiskRow[],
  start: boolean,
  quota: boolean,
): Promise<Planned> {
  const config = row.config;
  const role = row.role ? await getRole(db, env, row.organizationId, row.role).catch(() => null) : null;
  const envVars = {
    ...(role ? await roleEnv(env, role) : {}),
    ...(row.envEncrypted ? (JSON.parse(await decryptSecret(row.envEncrypted, env.ENCRYPTION_KEY)) as Record<string, string>) : {}),
  };
  const published = (config.ports ?? []).filter((p) => p.host_port);
  const args: OpArgs<"container.create"> = {
    name: serverContainerName(row),
    image: row.image,
    ...(config.command?.length ? { cmd: config.command } : {}),
    ...(Object.keys(envVars).length ? { env: envVars } : {}),
    ...(published.length
      ? { ports: published.map((p) => ({ container_port: p.container_port, host_port: p.host_port, protocol: p.protocol ?? "tcp" })) }
      : {}),
    volumes: [
      { source: row.volumeName, target: config.data_path ?? DEFAULT_DATA_PATH },
      ...disks.map((d) => ({ source: d.volumeName, target: d.mountPath })),
    ],
    labels: serverLabels(row),
    restart_policy: "unless-stopped",
    ...(row.cpu ? { cpus: row.cpu } : {}),
    ...(row.memoryMb ? { memory: row.memoryMb * 1024 * 1024 } : {}),
    ...(row.networkName ? { network: row.networkName } : {}),
    ...(row.networkName && row.ipAddress && config.subnet ? { ipv4_address: row.ipAddress } : {}),
    hostname: row.name,
    ...(config.health_check ? { health_check: healthCommand(config.health_check) } : {}),
    ...(quota && row.diskGb ? { storage_size_gb: row.diskGb } : {}),
    start,
    pull_policy: "missing",
  };
  return { args, quota: quota && row.diskGb !== null };
}

/** Creates the container, falling back to no size limit when the engine refuses one. */
async function createContainer(env: Bindings, hostId: string, planned: Planned): Promise<{ id: string; quota: boolean }> {
  try {
    const made = await onHost(env, hostId, "container.create", planned.args);
    return { id: made.id, quota: planned.quota };
  } catch (error) {
    if (!(planned.args.storage_size_gb && error instanceof Error && /storage-?opt|pquota|quota/i.test(error.message))) throw error;
    const { storage_size_gb: _, ...args } = planned.args;
    const made = await onHost(env, hostId, "container.create", args);
    return { id: made.id, quota: false };
  }
}

/** Volumes carry the server's labels, so sync and cleanup know whose they are. */
async function ensureVolume(env: Bindings, hostId: string, row: ServerRow, name: string) {
  await onHost(env, hostId, "volume.create", { name, labels: serverLabels(row) });
}

/** What the engine says about the container now: its id, status and address. */
async function observe(env: Bindings, hostId: string, ref: string, networkName: string | null) {
  const c = await onHost(env, hostId, "container.inspect", { id: ref });
  const state = (c.State ?? {}) as { Status?: string };
  const nets = ((c.NetworkSettings as { Networks?: Record<string, { IPAddress?: string }> } | undefined)?.Networks ?? {}) as Record<
    string,
    { IPAddress?: string }
  >;
  const ip = (networkName ? nets[networkName]?.IPAddress : Object.values(nets)[0]?.IPAddress) || null;
  return { id: String(c.Id), status: statusOfState(state.Status), ip };
}

/** Records an address Docker handed out (servers without a static one); a stale holder of it on the host gives it up. */
async function recordDynamicAddress(db: Database, row: ServerRow, ip: string | null) {
  if ((row.config.subnet && row.ipAddress) || !ip || ip === row.ipAddress || !row.hostId) return;
  await db
    .update(servers)
    .set({ ipAddress: null })
    .where(and(eq(servers.hostId, row.hostId), eq(servers.ipAddress, ip), ne(servers.id, row.id)));
  await db.update(servers).set({ ipAddress: ip }).where(eq(servers.id, row.id));
}

async function quotaFor(env: Bindings, hostId: string, cache: Map<string, Promise<boolean>>): Promise<boolean> {
  let known = cache.get(hostId);
  if (!known) {
    known = storageQuota(env, hostId).catch(() => false);
    cache.set(hostId, known);
  }
  return known;
}

// ---- the operations ----------------------------------------------------------------------------------

async function createOne(
  env: Bindings,
  db: Database,
  row: ServerRow,
  hostId: string,
  start: boolean,
  quotaCache: Map<string, Promise<boolean>>,
): Promise<ServerItem> {
  let networkId: string | null = null;
  if (row.config.subnet && row.networkName) networkId = await ensureNetwork(env, hostId, row.config.subnet, row.config.gateway);
  await ensureVolume(env, hostId, row, row.volumeName);
  const disks = await serverDisksOf(db, row.id);
  for (const d of disks) await ensureVolume(env, hostId, row, d.volumeName);
  const planned = await planContainer(env, db, row, disks, start, await quotaFor(env, hostId, quotaCache));
  const made = await createContainer(env, hostId, planned);
  const seen = await observe(env, hostId, made.id, row.networkName);
  await db
    .update(servers)
    .set({
      containerId: made.id,
      status: seen.status,
      networkId,
      lastError: null,
      config: { ...row.config, disk_quota: made.quota },
      updatedAt: nowIso(),
    })
    .where(eq(servers.id, row.id));
  await recordDynamicAddress(db, row, seen.ip);
  await roleFirewall(env, db, { ...row, containerId: made.id }, hostId, [], row.config.firewall_groups ?? []);
  return { server_id: row.id, name: row.name, ok: true, status: seen.status, ip_address: seen.ip ?? row.ipAddress };
}

/**
 * Its role's default firewall groups on a server just made or recreated. A host that cannot write
 * them fails the step and the container is stopped: a server its role says is firewalled does not
 * run open.
 */
async function roleFirewall(env: Bindings, db: Database, row: ServerRow, hostId: string, previous: string[], next: string[]) {
  const pushed = await applyRoleGroups(db, env, row, previous, next);
  if (pushed?.status !== "failed") return;
  await onHost(env, hostId, "container.stop", { id: row.containerId ?? serverContainerName(row), timeout: 10 }).catch(() => undefined);
  throw new Error(`Its container was made but stopped: its role's firewall groups could not be written on the host (${pushed.error}).`);
}

async function actOn(env: Bindings, db: Database, row: ServerRow, hostId: string, op: "start" | "stop" | "reboot"): Promise<ServerItem> {
  const ref = row.containerId ?? serverContainerName(row);
  try {
    if (op === "start") await onHost(env, hostId, "container.start", { id: ref });
    else if (op === "stop") await onHost(env, hostId, "container.stop", { id: ref });
    else await onHost(env, hostId, "container.restart", { id: ref });
  } catch (error) {
    if (isMissing(error)) {
      await db
        .update(servers)
        .set({ status: "error", lastError: "Its container is missing on the host: sync or clean the server up.", updatedAt: nowIso() })
        .where(eq(servers.id, row.id));
      throw new Error(`Its container ${serverContainerName(row)} is missing on the host.`);
    }
    throw error;
  }
  const seen = await observe(env, hostId, ref, row.networkName);
  await db
    .update(servers)
    .set({ status: seen.status, containerId: seen.id, lastError: null, updatedAt: nowIso() })
    .where(eq(servers.id, row.id));
  await recordDynamicAddress(db, row, seen.ip);
  return { server_id: row.id, name: row.name, ok: true, status: seen.status, ip_address: seen.ip ?? row.ipAddress };
}

/** Removes a volume; gone already is fine. */
async function removeVolume(env: Bindings, hostId: string, name: string) {
  try {
    await onHost(env, hostId, "volume.remove", { name, force: true });
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
}

async function removeContainer(env: Bindings, hostId: string, ref: string) {
  try {
    await onHost(env, hostId, "container.remove", { id: ref, force: true });
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
}

async function deleteOne(env: Bindings, db: Database, row: ServerRow, hostId: string, keepData: boolean): Promise<ServerItem> {
  await db.update(servers).set({ status: "deleting", updatedAt: nowIso() }).where(eq(servers.id, row.id));
  await removeContainer(env, hostId, row.containerId ?? serverContainerName(row));
  // A container removed behind Pier's back may have left its name taken by nothing; the name goes too.
  if (row.containerId) await removeContainer(env, hostId, serverContainerName(row));
  if (!keepData) {
    await removeVolume(env, hostId, row.volumeName);
    for (const d of await serverDisksOf(db, row.id)) await removeVolume(env, hostId, d.volumeName);
  }
  // Its chain goes with it: a later server given the same address must not inherit its rules. An
  // agent that cannot be reached now drops the chain's jumps itself once the container is gone.
  await removeServerFirewall(env, row);
  await db.delete(servers).where(eq(servers.id, row.id));
  if (row.networkName) await removeNetworkIfUnused(env, db, hostId, row.networkName);
  return { server_id: row.id, name: row.name, ok: true };
}

/** The subnet's network goes with its last server (and only when no other container uses it). */
async function removeNetworkIfUnused(env: Bindings, db: Database, hostId: string, networkName: string) {
  const others = await db
    .select({ id: servers.id })
    .from(servers)
    .where(and(eq(servers.hostId, hostId), eq(servers.networkName, networkName)))
    .limit(1);
  if (others.length) return;
  try {
    const net = await onHost(env, hostId, "network.inspect", { id: networkName });
    if (Object.keys((net.Containers as Record<string, unknown> | undefined) ?? {}).length) return;
    if ((net.Labels as Record<string, string> | undefined)?.[SERVER_NETWORK_LABEL] === undefined) return;
    await onHost(env, hostId, "network.remove", { id: networkName });
  } catch {
    // Left for a later delete or a prune: a network in use or gone is not this server's failure.
  }
}

/**
 * Recreates the server's container from its (changed) row: the old container is stopped and set
 * aside, the new one made with the same name, data volume and address; the old one is removed
 * once the new one exists, or put back if it could not be made.
 */
async function recreateOne(
  env: Bindings,
  db: Database,
  row: ServerRow,
  hostId: string,
  change: ServerChange,
  quotaCache: Map<string, Promise<boolean>>,
): Promise<ServerItem> {
  const next: ServerRow = {
    ...row,
    ...(change.role !== undefined ? { role: change.role } : {}),
    ...(change.image !== undefined ? { image: change.image } : {}),
    ...(change.config !== undefined ? { config: change.config } : {}),
    ...(change.envEncrypted !== undefined ? { envEncrypted: change.envEncrypted } : {}),
  };
  let disks = await serverDisksOf(db, row.id);
  if (change.addDisk) disks = [...disks, { ...change.addDisk, organizationId: row.organizationId, serverId: row.id, createdAt: nowIso() }];
  if (change.removeDisk) disks = disks.filter((d) => d.device !== change.removeDisk!.device);

  const name = serverContainerName(row);
  let old: { id: string; running: boolean } | null = null;
  try {
    const c = await onHost(env, hostId, "container.inspect", { id: row.containerId ?? name });
    old = { id: String(c.Id), running: ((c.State as { Status?: string } | undefined)?.Status ?? "") === "running" };
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  const aside = `${name}-old-${Date.now().toString(36)}`;
  if (old) {
    if (old.running) await onHost(env, hostId, "container.stop", { id: old.id, timeout: 10 });
    await onHost(env, hostId, "container.rename", { id: old.id, name: aside });
  }
  let networkId = row.networkId;
  let made: { id: string; quota: boolean };
  try {
    if (next.config.subnet && next.networkName) networkId = await ensureNetwork(env, hostId, next.config.subnet, next.config.gateway);
    await ensureVolume(env, hostId, next, next.volumeName);
    for (const d of disks) await ensureVolume(env, hostId, next, d.volumeName);
    const start = old ? old.running : row.status === "running";
    made = await createContainer(env, hostId, await planContainer(env, db, next, disks, start, await quotaFor(env, hostId, quotaCache)));
  } catch (error) {
    if (old) {
      await onHost(env, hostId, "container.rename", { id: old.id, name }).catch(() => undefined);
      if (old.running) await onHost(env, hostId, "container.start", { id: old.id }).catch(() => undefined);
    }
    throw new Error(`The new container could not be made, the old one is back: ${(error as Error).message}`);
  }
  if (old) await removeContainer(env, hostId, old.id);
  const seen = await observe(env, hostId, made.id, next.networkName);
  const now = nowIso();
  await db
    .update(servers)
    .set({
      role: next.role,
      image: next.image,
      config: { ...next.config, disk_quota: made.quota },
      envEncrypted: next.envEncrypted,
      containerId: made.id,
      networkId,
      status: seen.status,
      lastError: null,
      updatedAt: now,
    })
    .where(eq(servers.id, row.id));
  if (change.addDisk)
    await db.insert(serverDisks).values({ ...change.addDisk, organizationId: row.organizationId, serverId: row.id, createdAt: now });
  if (change.removeDisk) {
    const gone = (await serverDisksOf(db, row.id)).find((d) => d.device === change.removeDisk!.device);
    if (gone) {
      await db.delete(serverDisks).where(eq(serverDisks.id, gone.id));
      if (!change.removeDisk.keepData) await removeVolume(env, hostId, gone.volumeName);
    }
  }
  await recordDynamicAddress(db, next, seen.ip);
  if (change.role !== undefined)
    await roleFirewall(
      env,
      db,
      { ...next, containerId: made.id },
      hostId,
      row.config.firewall_groups ?? [],
      next.config.firewall_groups ?? [],
    );
  return { server_id: row.id, name: row.name, ok: true, status: seen.status, ip_address: seen.ip ?? row.ipAddress };
}

// ---- reading what hosts run (status, sync) --------------------------------------------------------------

export interface ObservedContainer {
  id: string;
  name: string;
  state: string;
  serverId: string;
  organizationId: string | undefined;
}

/** The server containers a host runs (by label), whatever their state. */
export async function serverContainersOn(env: Bindings, hostId: string): Promise<ObservedContainer[]> {
  const list = await onHost(env, hostId, "container.list", { all: true });
  return list
    .filter((c) => c.Labels?.[SERVER_LABEL])
    .map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? "").replace(/^\//, ""),
      state: c.State,
      serverId: c.Labels[SERVER_LABEL]!,
      organizationId: c.Labels[ORG_LABEL],
    }));
}

/** A volume's size in bytes, where the host's docker df knows it. */
export async function volumeUsage(env: Bindings, hostId: string): Promise<Map<string, VolumeJson>> {
  const { volumes } = await onHost(env, hostId, "volume.list", { usage: true });
  return new Map(volumes.map((v) => [v.Name, v]));
}

export { HostFailure, onHost };
