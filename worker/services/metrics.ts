import { and, desc, eq, gte, lt, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { HostSample } from "#protocol";
import type { Database } from "../db/client.ts";
import { containerMetrics, hostMetrics, RAW, ROLLUP_SECONDS } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { ApiError } from "../errors.ts";
import { evaluateAlerts, type AlertHost } from "./alerts.ts";

export type HostMetricRow = typeof hostMetrics.$inferSelect;
export type ContainerMetricRow = typeof containerMetrics.$inferSelect;

/** Raw samples are kept this long… */
export const RAW_RETENTION_MS = 24 * 3600_000;
/** …and 5-minute rollups this long. */
export const ROLLUP_RETENTION_MS = 30 * 24 * 3600_000;
/** An agent clock off by more than this is corrected (see alignToServerClock). */
const MAX_CLOCK_SKEW_MS = 5_000;
/** Rows per INSERT, well under SQLite's bound-parameter limit. */
const CHUNK = 100;

export interface HostRef {
  id: string;
  organizationId: string;
}

/** The values of one host sample, from an agent or a push; null where the source said nothing. */
export interface HostPoint {
  at: number;
  cpuPercent: number | null;
  memoryPercent: number | null;
  memoryUsed: number | null;
  memoryTotal: number | null;
  diskPercent: number | null;
  diskUsed: number | null;
  diskTotal: number | null;
  networkIn: number | null;
  networkOut: number | null;
  load1: number | null;
  load5: number | null;
  load15: number | null;
  containersRunning: number | null;
  activeConnections: number | null;
}

const iso = (ms: number) => new Date(ms).toISOString();
const bucketOf = (ms: number) => Math.floor(ms / (ROLLUP_SECONDS * 1000)) * ROLLUP_SECONDS * 1000;

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * An agent's samples on the server's clock: `sentAt` is the agent's clock when it sent them, so
 * `sentAt − now` is its skew (plus the network's delay, a few ms). A skew beyond a few seconds is
 * corrected; the samples keep their spacing.
 */
export function alignToServerClock<T extends { at: number }>(samples: T[], sentAt: number | undefined, now = Date.now()): T[] {
  if (sentAt === undefined) return samples;
  const skew = sentAt - now;
  if (Math.abs(skew) <= MAX_CLOCK_SKEW_MS) return samples;
  return samples.map((s) => ({ ...s, at: s.at - skew }));
}

export function pointFromAgent(sample: HostSample): HostPoint {
  return {
    at: sample.at,
    cpuPercent: sample.cpu_percent,
    memoryPercent: sample.memory_percent,
    memoryUsed: sample.memory_used,
    memoryTotal: sample.memory_total,
    diskPercent: sample.disk_percent,
    diskUsed: sample.disk_used,
    diskTotal: sample.disk_total,
    networkIn: sample.net_in,
    networkOut: sample.net_out,
    load1: sample.load[0],
    load5: sample.load[1],
    load15: sample.load[2],
    containersRunning: sample.containers_running,
    activeConnections: null,
  };
}

const AVERAGED = [
  "cpuPercent",
  "memoryPercent",
  "memoryUsed",
  "memoryTotal",
  "diskPercent",
  "diskUsed",
  "diskTotal",
  "networkIn",
  "networkOut",
  "load1",
  "load5",
  "load15",
  "containersRunning",
  "activeConnections",
] as const;

type HostValues = Omit<typeof hostMetrics.$inferInsert, "id">;

function rawRow(host: HostRef, source: "agent" | "push", p: HostPoint): HostValues {
  return {
    organizationId: host.organizationId,
    hostId: host.id,
    resolution: RAW,
    at: iso(p.at),
    samples: 1,
    source,
    cpuMax: p.cpuPercent,
    memoryMax: p.memoryPercent,
    ...Object.fromEntries(AVERAGED.map((k) => [k, p[k]])),
  };
}

/** The ISO text of the start of a row's 5-minute bucket, computed in SQL. */
const BUCKET_SQL = sql.raw(
  `strftime('%Y-%m-%dT%H:%M:%fZ', (cast(strftime('%s', at) as integer) / ${ROLLUP_SECONDS}) * ${ROLLUP_SECONDS}, 'unixepoch')`,
);

/** The buckets `points` touch, as a half-open range of `at` text. */
function bucketRange(times: number[]): [string, string] {
  return [iso(bucketOf(Math.min(...times))), iso(bucketOf(Math.max(...times)) + ROLLUP_SECONDS * 1000)];
}

/**
 * Recomputes the 5-minute rollups of the buckets a batch touched from the raw rows, in the same
 * transaction as the raw insert. Recomputing (rather than adding to) the rollup makes a sample
 * that arrives twice (an agent resending after a reconnect) count once.
 */
function rollupHostBuckets(db: Database, hostId: string, [from, to]: [string, string]) {
  const averaged = AVERAGED.map((k) => hostMetrics[k].name);
  const columns = ["organization_id", "host_id", "resolution", "at", "samples", "source", "cpu_max", "memory_max", ...averaged];
  return db.run(sql`
    insert into host_metrics (${sql.raw(columns.join(", "))})
    select organization_id, host_id, ${ROLLUP_SECONDS}, ${BUCKET_SQL} as bucket, count(*), min(source), max(cpu_percent), max(memory_percent), ${sql.raw(averaged.map((c) => `avg(${c})`).join(", "))}
    from host_metrics
    where host_id = ${hostId} and resolution = ${RAW} and at >= ${from} and at < ${to}
    group by bucket
    on conflict (host_id, resolution, at) do update set ${sql.raw(["samples", "source", "cpu_max", "memory_max", ...averaged].map((c) => `${c} = excluded.${c}`).join(", "))}
  `);
}

function rollupContainerBuckets(db: Database, hostId: string, [from, to]: [string, string]) {
  return db.run(sql`
    insert into container_metrics (organization_id, host_id, container_id, container_name, resolution, at, samples, cpu_percent, cpu_max, memory_usage, memory_limit, memory_percent, memory_max)
    select organization_id, host_id, container_id, max(container_name), ${ROLLUP_SECONDS}, ${BUCKET_SQL} as bucket, count(*), avg(cpu_percent), max(cpu_percent), avg(memory_usage), max(memory_limit), avg(memory_percent), max(memory_percent)
    from container_metrics
    where host_id = ${hostId} and resolution = ${RAW} and at >= ${from} and at < ${to}
    group by container_id, bucket
    on conflict (host_id, container_id, resolution, at) do update set container_name = excluded.container_name, samples = excluded.samples, cpu_percent = excluded.cpu_percent, cpu_max = excluded.cpu_max, memory_usage = excluded.memory_usage, memory_limit = excluded.memory_limit, memory_percent = excluded.memory_percent, memory_max = excluded.memory_max
  `);
}

/** Stores host points, raw (a sample seen twice is stored once) and rolled up, in one transaction. */
export async function storeHostPoints(db: Database, host: HostRef, source: "agent" | "push", points: HostPoint[]): Promise<void> {
  if (points.length === 0) return;
  const raw = chunks(points.map((p) => rawRow(host, source, p))).map((rows) => db.insert(hostMetrics).values(rows).onConflictDoNothing());
  const [first, ...rest] = raw;
  await db.batch([first!, ...rest, rollupHostBuckets(db, host.id, bucketRange(points.map((p) => p.at)))]);
}

/** Stores each container's CPU and memory from the agent's samples, raw and rolled up. */
export async function storeContainerSamples(
  db: Database,
  host: HostRef,
  samples: Array<{ at: number; containers: HostSample["containers"] }>,
): Promise<void> {
  type Row = Omit<typeof containerMetrics.$inferInsert, "id">;
  const raw: Row[] = samples.flatMap((s) =>
    s.containers.map((c) => ({
      organizationId: host.organizationId,
      hostId: host.id,
      containerId: c.id,
      containerName: c.name,
      resolution: RAW,
      at: iso(s.at),
      samples: 1,
      cpuPercent: c.cpu_percent,
      cpuMax: c.cpu_percent,
      memoryUsage: c.memory_usage,
      memoryLimit: c.memory_limit,
      memoryPercent: c.memory_percent,
      memoryMax: c.memory_percent,
    })),
  );
  if (raw.length === 0) return;
  const [first, ...rest] = chunks(raw).map((rows) => db.insert(containerMetrics).values(rows).onConflictDoNothing());
  await db.batch([first!, ...rest, rollupContainerBuckets(db, host.id, bucketRange(samples.map((s) => s.at)))]);
}

// ---- queries ---------------------------------------------------------------------------------------

export interface RangeQuery {
  from?: string;
  to?: string;
  /** Seconds per point. */
  step?: number;
}

export interface ResolvedRange {
  from: number;
  to: number;
  step: number;
  resolution: typeof RAW | typeof ROLLUP_SECONDS;
}

const MAX_POINTS = 2000;

/**
 * Picks the series and step for a range: raw samples while the range is within the raw
 * retention and the step is under 5 minutes, the rollups otherwise. Defaults: the last hour, at
 * about 240 points.
 */
export function resolveRange(q: RangeQuery, now = Date.now()): ResolvedRange {
  const to = q.to ? Date.parse(q.to) : now;
  const from = q.from ? Date.parse(q.from) : to - 3600_000;
  if (!(to > from))
    throw new ApiError(422, "`from` must be before `to`.", { errors: [{ pointer: "/query/from", detail: "must be before `to`" }] });
  const span = (to - from) / 1000;
  let step = q.step ?? Math.max(15, Math.ceil(span / 240));
  if (span / step > MAX_POINTS) {
    throw new ApiError(422, `That is more than ${MAX_POINTS} points: use a step of at least ${Math.ceil(span / MAX_POINTS)} s.`, {
      errors: [{ pointer: "/query/step", detail: `at least ${Math.ceil(span / MAX_POINTS)} for this range` }],
    });
  }
  const rollup = step >= ROLLUP_SECONDS || from < now - RAW_RETENTION_MS;
  if (rollup) step = Math.max(ROLLUP_SECONDS, Math.ceil(step / ROLLUP_SECONDS) * ROLLUP_SECONDS);
  return { from, to, step, resolution: rollup ? ROLLUP_SECONDS : RAW };
}

/** The step inlined as an integer literal: bound as a parameter it may arrive as a REAL, and the division would not floor. */
const stepSql = (range: ResolvedRange) => sql.raw(String(Math.trunc(range.step)));

const weighted = (column: SQLiteColumn, samples: SQLiteColumn) =>
  sql<number | null>`sum(${column} * ${samples}) / nullif(sum(case when ${column} is null then 0 else ${samples} end), 0)`;

export interface HostSeriesPoint {
  at: string;
  samples: number;
  cpuPercent: number | null;
  cpuMax: number | null;
  memoryPercent: number | null;
  memoryMax: number | null;
  memoryUsed: number | null;
  memoryTotal: number | null;
  diskPercent: number | null;
  diskUsed: number | null;
  diskTotal: number | null;
  networkIn: number | null;
  networkOut: number | null;
  load1: number | null;
  load5: number | null;
  load15: number | null;
  containersRunning: number | null;
}

/** A host's load over a range, one point per step that has samples. */
export async function hostSeries(db: Database, hostId: string, range: ResolvedRange): Promise<HostSeriesPoint[]> {
  const m = hostMetrics;
  const bucket = sql<number>`(cast(strftime('%s', ${m.at}) as integer) / ${stepSql(range)}) * ${stepSql(range)}`;
  const rows = await db
    .select({
      bucket: bucket.as("bucket"),
      samples: sql<number>`sum(${m.samples})`,
      cpuPercent: weighted(m.cpuPercent, m.samples),
      cpuMax: sql<number | null>`max(${m.cpuMax})`,
      memoryPercent: weighted(m.memoryPercent, m.samples),
      memoryMax: sql<number | null>`max(${m.memoryMax})`,
      memoryUsed: weighted(m.memoryUsed, m.samples),
      memoryTotal: weighted(m.memoryTotal, m.samples),
      diskPercent: weighted(m.diskPercent, m.samples),
      diskUsed: weighted(m.diskUsed, m.samples),
      diskTotal: weighted(m.diskTotal, m.samples),
      networkIn: weighted(m.networkIn, m.samples),
      networkOut: weighted(m.networkOut, m.samples),
      load1: weighted(m.load1, m.samples),
      load5: weighted(m.load5, m.samples),
      load15: weighted(m.load15, m.samples),
      containersRunning: weighted(m.containersRunning, m.samples),
    })
    .from(m)
    .where(and(eq(m.hostId, hostId), eq(m.resolution, range.resolution), gte(m.at, iso(range.from)), lt(m.at, iso(range.to))))
    .groupBy(sql`bucket`)
    .orderBy(sql`bucket`);
  return rows.map(({ bucket: b, ...rest }) => ({ at: iso(Number(b) * 1000), ...rest }));
}

export interface ContainerSeriesPoint {
  at: string;
  samples: number;
  cpuPercent: number;
  cpuMax: number;
  memoryUsage: number;
  memoryLimit: number;
  memoryPercent: number;
  memoryMax: number;
}

/** One container's CPU and memory over a range (by full id or the name it had). */
export async function containerSeries(
  db: Database,
  hostId: string,
  container: string,
  range: ResolvedRange,
): Promise<{ id: string; name: string; points: ContainerSeriesPoint[] } | null> {
  const m = containerMetrics;
  const [match] = await db
    .select({ id: m.containerId, name: m.containerName })
    .from(m)
    .where(
      and(
        eq(m.hostId, hostId),
        sql`(${m.containerId} = ${container} or ${m.containerName} = ${container} or ${m.containerId} like ${`${container.replace(/[%_]/g, "")}%`})`,
      ),
    )
    .orderBy(desc(m.at))
    .limit(1);
  if (!match) return null;
  const bucket = sql<number>`(cast(strftime('%s', ${m.at}) as integer) / ${stepSql(range)}) * ${stepSql(range)}`;
  const rows = await db
    .select({
      bucket: bucket.as("bucket"),
      samples: sql<number>`sum(${m.samples})`,
      cpuPercent: sql<number>`sum(${m.cpuPercent} * ${m.samples}) / sum(${m.samples})`,
      cpuMax: sql<number>`max(${m.cpuMax})`,
      memoryUsage: sql<number>`sum(${m.memoryUsage} * ${m.samples}) / sum(${m.samples})`,
      memoryLimit: sql<number>`max(${m.memoryLimit})`,
      memoryPercent: sql<number>`sum(${m.memoryPercent} * ${m.samples}) / sum(${m.samples})`,
      memoryMax: sql<number>`max(${m.memoryMax})`,
    })
    .from(m)
    .where(
      and(
        eq(m.hostId, hostId),
        eq(m.containerId, match.id),
        eq(m.resolution, range.resolution),
        gte(m.at, iso(range.from)),
        lt(m.at, iso(range.to)),
      ),
    )
    .groupBy(sql`bucket`)
    .orderBy(sql`bucket`);
  return { id: match.id, name: match.name, points: rows.map(({ bucket: b, ...rest }) => ({ at: iso(Number(b) * 1000), ...rest })) };
}

/** Raw rows of a host, newest first (DevFlow's metrics list). */
export async function recentRawRows(db: Database, hostId: string, limit: number): Promise<HostMetricRow[]> {
  return db
    .select()
    .from(hostMetrics)
    .where(and(eq(hostMetrics.hostId, hostId), eq(hostMetrics.resolution, RAW)))
    .orderBy(desc(hostMetrics.at))
    .limit(limit);
}

/** The newest raw sample of each host of an organization. */
export async function latestSamples(db: Database, organizationId: string): Promise<Map<string, HostMetricRow>> {
  const rows = await db
    .select()
    .from(hostMetrics)
    .where(
      and(
        eq(hostMetrics.organizationId, organizationId),
        eq(hostMetrics.resolution, RAW),
        sql`${hostMetrics.at} = (select max(h2.at) from host_metrics h2 where h2.host_id = ${hostMetrics.hostId} and h2.resolution = ${RAW})`,
      ),
    );
  return new Map(rows.map((r) => [r.hostId, r]));
}

/** Drops raw samples older than a day and rollups older than a month. */
export async function pruneMetrics(db: Database, now = Date.now()): Promise<void> {
  const rawBefore = iso(now - RAW_RETENTION_MS);
  const rollupBefore = iso(now - ROLLUP_RETENTION_MS);
  await db.batch([
    db.delete(hostMetrics).where(and(eq(hostMetrics.resolution, RAW), lt(hostMetrics.at, rawBefore))),
    db.delete(hostMetrics).where(and(eq(hostMetrics.resolution, ROLLUP_SECONDS), lt(hostMetrics.at, rollupBefore))),
    db.delete(containerMetrics).where(and(eq(containerMetrics.resolution, RAW), lt(containerMetrics.at, rawBefore))),
    db.delete(containerMetrics).where(and(eq(containerMetrics.resolution, ROLLUP_SECONDS), lt(containerMetrics.at, rollupBefore))),
  ]);
}

// ---- ingestion -------------------------------------------------------------------------------------

/** A batch from a host's agent: stored, rolled up, and run through the alert rules. */
export async function ingestAgentMetrics(
  db: Database,
  env: Bindings,
  host: AlertHost,
  batch: HostSample[],
  sentAt?: number,
): Promise<void> {
  const samples = alignToServerClock(batch, sentAt);
  const points = samples.map(pointFromAgent);
  await storeHostPoints(db, host, "agent", points);
  await storeContainerSamples(db, host, samples);
  await evaluateAlerts(db, env, host, points);
}

export interface PushedValues {
  cpuUsage: number;
  memoryUsage: number;
  diskUsage: number;
  networkIn?: number | null;
  networkOut?: number | null;
  loadAverage?: number | null;
  activeConnections?: number | null;
}

/** One pushed sample (DevFlow's POST /api/servers/{server}/metrics), stamped on arrival. */
export async function ingestPush(db: Database, env: Bindings, host: AlertHost, values: PushedValues): Promise<HostMetricRow> {
  const point: HostPoint = {
    at: Date.now(),
    cpuPercent: values.cpuUsage,
    memoryPercent: values.memoryUsage,
    memoryUsed: null,
    memoryTotal: null,
    diskPercent: values.diskUsage,
    diskUsed: null,
    diskTotal: null,
    networkIn: values.networkIn ?? null,
    networkOut: values.networkOut ?? null,
    load1: values.loadAverage ?? null,
    load5: null,
    load15: null,
    containersRunning: null,
    activeConnections: values.activeConnections ?? null,
  };
  await storeHostPoints(db, host, "push", [point]);
  await evaluateAlerts(db, env, host, [point]);
  const [row] = await db
    .select()
    .from(hostMetrics)
    .where(and(eq(hostMetrics.hostId, host.id), eq(hostMetrics.resolution, RAW), eq(hostMetrics.at, iso(point.at))))
    .limit(1);
  return row!;
}
