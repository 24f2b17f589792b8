// Database services and containers as backup sources and restore sinks (the `database` and
// `container` kinds of backup-sources.ts). A database's artifact is its engine's logical dump,
// made by the engine's own tool inside its container (`database.dump` on the agent, see
// agent-relay/src/protocol/dumps.ts) and streamed through the relay; a restore streams it back
// into the same service or into a new one, on the same or another host. A container's artifact is
// `docker save` of a commit of it, with how it ran (ports, mounts, restart policy, network) kept
// in a label of the committed image, so a restore can load it and run it again.
import type { DatabaseDumpArgs, DumpMeta, OpResult } from "#protocol";
import type { Bindings } from "../env.ts";
import { conflict } from "../errors.ts";
import { errorText } from "../db/errors.ts";
import { type CommandOutcome, relayFailure } from "../lib/relay.ts";
import { nowIso } from "../lib/time.ts";
// Types only: backup-sources.ts imports this module to register the sources.
import type { BackupSource, ContainerTarget, DatabaseTarget, RestoreInto, SourceContext } from "./backup-sources.ts";
import { connectionInfo, createDatabaseService, type DatabaseRow, getDatabaseService } from "./databases.ts";
import { getHost } from "./hosts.ts";
import { runOnHost } from "./host-relay.ts";
import type { Actor, Principal } from "./principal.ts";

type Caller = Actor & { principal: Principal };

/** A step of a database or container backup failed; the message is the task's, as it is. */
export class SourceStepError extends Error {
  override name = "SourceStepError";
}

/** What restore expects for each engine (the `format` of a backup record) and the artifact's extension. */
const ARTIFACTS: Record<DatabaseRow["engine"], { format: string; ext: string; version: string[] }> = {
  postgres: { format: "pg_dump", ext: "dump", version: ["postgres", "--version"] },
  mysql: { format: "mysqldump", ext: "sql", version: ["mysqld", "--version"] },
  mariadb: { format: "mariadb-dump", ext: "sql", version: ["mariadbd", "--version"] },
  mongo: { format: "mongodump", ext: "archive", version: ["mongod", "--version"] },
  redis: { format: "redis-rdb", ext: "rdb.tar", version: ["redis-server", "--version"] },
};

/** `postgres (PostgreSQL) 15.18 (Debian …)`, `mariadbd  Ver 10.11.18-MariaDB…`, `Redis server v=7.0.15 …` → the version. */
export function serverVersionOf(output: string): string | null {
  return /(?:v=|Ver |version v|\) )(\d+\.\d+(?:\.\d+)?[\w.+~-]*)/.exec(output)?.[1] ?? /\b(\d+\.\d+(?:\.\d+)?)\b/.exec(output)?.[1] ?? null;
}

/** The agent's arguments: the container Pier runs the service as, and its credentials. */
export async function dumpArgs(env: Bindings, row: DatabaseRow): Promise<DatabaseDumpArgs> {
  const c = await connectionInfo(env, row);
  return {
    container: row.appName,
    engine: row.engine,
    ...(c.database ? { database: c.database } : {}),
    ...(c.user ? { user: c.user } : {}),
    password: c.password,
    ...(c.root_password ? { root_password: c.root_password } : {}),
  };
}

// The relay's byte transfers (HostRelay.openDownload / openUpload), as these sources use them.
interface OpenedDownload {
  ok: true;
  id: string;
  meta: Record<string, unknown>;
  stream: ReadableStream<Uint8Array>;
}
interface TransferRelay {
  openDownload(op: string, args: unknown): Promise<OpenedDownload | Extract<CommandOutcome, { ok: false }>>;
  openUpload(op: string, args: unknown, body: ReadableStream<Uint8Array>): Promise<CommandOutcome>;
}
const relayOf = (env: Bindings, hostId: string) => env.HOST_RELAY.getByName(hostId) as unknown as TransferRelay;

// Ops named as strings: image.save and image.load arrive with the relay's transfer (issue 15).
async function download(env: Bindings, hostId: string, op: string, args: unknown): Promise<OpenedDownload> {
  const opened = await relayOf(env, hostId).openDownload(op, args);
  if (!opened.ok) throw relayFailure(opened.error);
  return opened;
}

async function upload<T>(env: Bindings, hostId: string, op: string, args: unknown, body: ReadableStream<Uint8Array>): Promise<T> {
  const outcome = await relayOf(env, hostId).openUpload(op, args, body);
  if (!outcome.ok) throw relayFailure(outcome.error);
  return outcome.data as T;
}

async function hostOf(row: DatabaseRow): Promise<string> {
  if (!row.hostId) throw conflict(`Database ${row.name} has no host yet: register one and start it first.`);
  return row.hostId;
}

/**
 * A new service for a restore: the original's engine, image, command and names, on the given host
 * or the original's, recorded (and audited) as made by the admin who started the restore.
 */
async function newServiceFor(
  ctx: SourceContext,
  env: Bindings,
  row: DatabaseRow,
  into: Extract<RestoreInto, { kind: "new" }>,
): Promise<DatabaseRow> {
  const hostId = into.hostId ? (await getHost(ctx.db, ctx.organizationId, into.hostId)).id : row.hostId;
  if (!ctx.actor) throw new SourceStepError("A restore into a new database needs the user who started it.");
  const actor: Caller = ctx.actor;
  ctx.log(`Creating database ${into.name} (${row.engine}, ${row.image})${hostId && hostId !== row.hostId ? ` on host ${hostId}` : ""}`);
  const made = await createDatabaseService(
    ctx.db,
    env,
    actor,
    {
      environment_id: row.environmentId,
      engine: row.engine,
      name: into.name,
      host_id: hostId,
      image: row.image,
      ...(row.command?.length ? { command: row.command } : {}),
      ...(row.databaseName ? { database_name: row.databaseName } : {}),
      ...(row.databaseUser ? { database_user: row.databaseUser } : {}),
    },
    { suffixAppName: true },
  );
  if (made.status !== "running")
    throw new SourceStepError(`The new database ${into.name} did not start: ${made.lastError ?? "unknown error"}`);
  return made;
}

export const databaseSource: BackupSource<DatabaseTarget> = {
  async describe(env, target, { db, organizationId }) {
    const row = await getDatabaseService(db, { organizationId }, target.databaseId);
    const hostId = await hostOf(row);
    const artifact = ARTIFACTS[row.engine];
    // The server's own binary answers without credentials; a restore reads the version from the
    // artifact itself, so this is what the record and manifest say, not what guards a restore.
    const probe = await runOnHost(env, hostId, "container.exec", { id: row.appName, cmd: artifact.version, timeout_ms: 30_000 }).catch(
      () => null,
    );
    return {
      hostId,
      format: artifact.format,
      ext: artifact.ext,
      label: `${row.engine} database ${row.name}`,
      targetId: row.id,
      engineVersion: probe && probe.exit_code === 0 ? serverVersionOf(`${probe.stdout}${probe.stderr}`) : null,
    };
  },

  async open(env, target, ctx) {
    const row = await getDatabaseService(ctx.db, { organizationId: ctx.organizationId }, target.databaseId);
    const opened = await download(env, await hostOf(row), "database.dump", await dumpArgs(env, row)).catch((error: unknown) => {
      throw new SourceStepError(`The database could not be dumped: ${errorText(error)}`);
    });
    const meta = opened.meta as DumpMeta;
    ctx.log(`Dumping ${row.engine} ${meta.server_version} database ${row.name} with ${meta.tool} (${meta.format})`);
    return opened.stream;
  },

  async restore(env, target, into, body, ctx) {
    const original = await getDatabaseService(ctx.db, { organizationId: ctx.organizationId }, target.databaseId);
    const row = into.kind === "new" ? await newServiceFor(ctx, env, original, into) : original;
    const hostId = await hostOf(row);
    ctx.log(
      row.engine === "postgres"
        ? `Restoring into ${row.name} with pg_restore in one transaction (a failure changes nothing)`
        : row.engine === "redis"
          ? `Restoring into ${row.name}: stopping it, putting the snapshot in place (the previous AOF manifest kept beside it), starting it`
          : `Restoring into ${row.name}`,
    );
    const result = await upload<OpResult<"database.restore">>(env, hostId, "database.restore", await dumpArgs(env, row), body).catch(
      (error: unknown) => {
        throw new SourceStepError(`The restore into database ${row.name} failed: ${errorText(error)}`);
      },
    );
    if (result.output) ctx.log(result.output);
    return {
      database_id: row.id,
      host_id: hostId,
      engine: row.engine,
      server_version: result.server_version,
      source_version: result.source_version,
      bytes: result.bytes,
    };
  },
};

// ---- containers: commit + save, load + run again ----

/** The label of a committed image that keeps how its container ran. */
export const RUN_SPEC_LABEL = "dev.pier.backup.run";

interface RunSpec {
  name: string;
  ports: Array<{ container_port: number; protocol?: "tcp" | "udp" | "sctp"; host_port?: number; host_ip?: string }>;
  volumes: Array<{ source: string; target: string; read_only?: boolean }>;
  restart_policy?: "no" | "always" | "unless-stopped" | "on-failure";
  network?: string;
}

type Inspect = {
  Name?: string;
  Config?: { Labels?: Record<string, string> | null };
  HostConfig?: {
    PortBindings?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null;
    RestartPolicy?: { Name?: string };
    NetworkMode?: string;
  };
  Mounts?: Array<{ Type: string; Name?: string; Source?: string; Destination: string; RW?: boolean }>;
};

export function runSpecOf(inspect: Inspect): RunSpec {
  const ports: RunSpec["ports"] = [];
  for (const [key, bindings] of Object.entries(inspect.HostConfig?.PortBindings ?? {})) {
    const [port, protocol] = key.split("/");
    for (const b of bindings ?? []) {
      ports.push({
        container_port: Number(port),
        ...(protocol && protocol !== "tcp" ? { protocol: protocol as "udp" | "sctp" } : {}),
        ...(b.HostPort ? { host_port: Number(b.HostPort) } : {}),
        ...(b.HostIp ? { host_ip: b.HostIp } : {}),
      });
    }
  }
  const volumes = (inspect.Mounts ?? [])
    .filter((m) => m.Type === "volume" || m.Type === "bind")
    .map((m) => ({
      source: (m.Type === "volume" ? m.Name : m.Source) ?? "",
      target: m.Destination,
      ...(m.RW === false ? { read_only: true } : {}),
    }))
    .filter((m) => m.source);
  const restart = inspect.HostConfig?.RestartPolicy?.Name;
  const network = inspect.HostConfig?.NetworkMode;
  return {
    name: (inspect.Name ?? "").replace(/^\//, ""),
    ports,
    volumes,
    ...(restart === "no" || restart === "always" || restart === "unless-stopped" || restart === "on-failure"
      ? { restart_policy: restart }
      : {}),
    ...(network && !["default", "bridge", "host", "none"].includes(network) && !network.startsWith("container:") ? { network } : {}),
  };
}

/** The committed image's name for one backup: lower-case, as image names must be. */
const backupImage = (name: string, stamp: string) =>
  `pier-backup/${
    name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^[^a-z0-9]+/, "") || "container"
  }:${stamp}`;

/**
 * Commits the container (paused meanwhile, as `docker commit` does) with its run spec as a label,
 * then streams `docker save` of that image; the image is removed from the host once the stream
 * has been read to its end or abandoned.
 */
async function openContainerImage(env: Bindings, target: ContainerTarget, ctx: SourceContext): Promise<ReadableStream<Uint8Array>> {
  const inspect = (await runOnHost(env, target.hostId, "container.inspect", { id: target.id })) as Inspect;
  const spec = runSpecOf(inspect);
  const image = backupImage(
    spec.name || target.id,
    nowIso()
      .replace(/[^0-9]/g, "")
      .slice(0, 14),
  );
  ctx.log(`Committing container ${spec.name || target.id} as ${image} (paused meanwhile), then saving it`);
  await runOnHost(env, target.hostId, "container.commit", {
    id: target.id,
    image,
    comment: `Pier backup of ${spec.name || target.id}`,
    changes: [`LABEL ${RUN_SPEC_LABEL}=${JSON.stringify(JSON.stringify(spec))}`],
  });
  const removeImage = () =>
    runOnHost(env, target.hostId, "image.remove", { id: image, force: true }).then(
      () => undefined,
      () => undefined,
    );
  let opened: OpenedDownload;
  try {
    opened = await download(env, target.hostId, "image.save", { images: [image] });
  } catch (error) {
    await removeImage();
    throw new SourceStepError(`The container's image could not be saved: ${errorText(error)}`);
  }
  const reader = opened.stream.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (!done) return controller.enqueue(value);
        await removeImage();
        controller.close();
      } catch (error) {
        await removeImage();
        controller.error(error);
      }
    },
    async cancel(reason) {
      await reader.cancel(reason).catch(() => undefined);
      await removeImage();
    },
  });
}

/**
 * Loads the image (`docker load`) and runs it again as its container ran: in place of the old
 * one (`same`: the old container is stopped and renamed aside first, removed once the new one
 * runs, put back if it does not) or as a new container (`new`, on the given host or the
 * original's, without host ports, which the original may still hold).
 */
async function restoreContainerImage(
  env: Bindings,
  target: ContainerTarget,
  into: RestoreInto,
  body: ReadableStream<Uint8Array>,
  ctx: SourceContext,
): Promise<Record<string, unknown>> {
  const hostId = into.kind === "new" && into.hostId ? (await getHost(ctx.db, ctx.organizationId, into.hostId)).id : target.hostId;
  const loaded = await upload<{ images?: string[] }>(env, hostId, "image.load", {}, body);
  const image = loaded.images?.[0];
  if (!image) throw new SourceStepError("The host loaded the backup but reported no image in it.");
  ctx.log(`Loaded ${image}`);
  const inspect = (await runOnHost(env, hostId, "image.inspect", { id: image })) as { Config?: { Labels?: Record<string, string> | null } };
  const raw = inspect.Config?.Labels?.[RUN_SPEC_LABEL];
  const spec: RunSpec = raw ? (JSON.parse(raw) as RunSpec) : { name: target.id, ports: [], volumes: [] };
  const name = into.kind === "new" ? into.name : spec.name || target.id;
  const create = {
    name,
    image,
    ...(into.kind === "same" && spec.ports.length ? { ports: spec.ports } : {}),
    ...(spec.volumes.length ? { volumes: spec.volumes } : {}),
    ...(spec.restart_policy ? { restart_policy: spec.restart_policy } : {}),
    ...(spec.network ? { network: spec.network } : {}),
    pull_policy: "never" as const,
    start: true,
  };
  if (into.kind === "new") {
    const created = await runOnHost(env, hostId, "container.create", create);
    return { host_id: hostId, container_id: created.id, name, image };
  }
  const aside = `${name}-before-restore-${Date.now().toString(36)}`;
  const previous = ((await runOnHost(env, hostId, "container.inspect", { id: name })) as { Config?: { Image?: string } }).Config?.Image;
  ctx.log(`Stopping ${name} and keeping it as ${aside} until the restored one runs`);
  await runOnHost(env, hostId, "container.stop", { id: name, timeout: 30 });
  await runOnHost(env, hostId, "container.rename", { id: name, name: aside });
  try {
    const created = await runOnHost(env, hostId, "container.create", create);
    await runOnHost(env, hostId, "container.remove", { id: aside, force: true });
    // The replaced container ran an image an earlier restore loaded: nothing runs it now, so it
    // goes (without force: a container still using it keeps it).
    if (previous?.startsWith("pier-backup/") && previous !== image)
      await runOnHost(env, hostId, "image.remove", { id: previous }).catch(() => undefined);
    return { host_id: hostId, container_id: created.id, name, image };
  } catch (error) {
    await runOnHost(env, hostId, "container.remove", { id: name, force: true }).catch(() => undefined);
    await runOnHost(env, hostId, "container.rename", { id: aside, name }).catch(() => undefined);
    await runOnHost(env, hostId, "container.start", { id: name }).catch(() => undefined);
    throw new SourceStepError(`The restored container did not start, so ${name} was put back as it was: ${errorText(error)}`);
  }
}

export const containerSource: BackupSource<ContainerTarget> = {
  async describe(env, target, { db, organizationId }) {
    const host = await getHost(db, organizationId, target.hostId);
    const inspect = (await runOnHost(env, host.id, "container.inspect", { id: target.id })) as Inspect & { Id?: string };
    const name = (inspect.Name ?? target.id).replace(/^\//, "");
    return { hostId: host.id, format: "docker-image", ext: "tar", label: `container ${name} on ${host.name}`, targetId: target.id };
  },
  open: (env, target, ctx) => openContainerImage(env, target, ctx),
  restore: (env, target, into, body, ctx) => restoreContainerImage(env, target, into, body, ctx),
};
