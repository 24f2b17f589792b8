// Monitoring at a glance for the server manager's documents (seeds 002/004) and Prometheus users:
// the agents as "node exporters", the metrics pipeline as "prometheus", a server's latest numbers,
// and the latest values of every host and server in Prometheus' text exposition format.
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { containerMetrics, RAW } from "../db/schema.ts";
import { effectiveState, type HostRow, allHosts } from "./hosts.ts";
import { latestSamples, type HostMetricRow } from "./metrics.ts";
import { getMonitoringSettings, DEFAULT_SAMPLE_INTERVAL_SECONDS } from "./monitoring-settings.ts";
import { listServers, serverContainerName, type ServerRow } from "./servers.ts";

/** A host whose newest sample is older than this many sampling intervals (plus a send) counts as not reporting. */
const FRESH_INTERVALS = 2;
/** Agents send their samples once a minute (MetricsReporter's flush). */
const SEND_EVERY_MS = 60_000;

export interface ExporterCounts {
  total: number;
  active: number;
  inactive: number;
}

export interface MonitoringStatus {
  exporters: ExporterCounts;
  /** Hosts with a recent sample: the pipeline's healthy targets. */
  reporting: number;
  lastSampleAt: string | null;
  sampleIntervalSeconds: number;
  grafanaUrl: string | null;
}

export function isFresh(sample: HostMetricRow | undefined, intervalSeconds: number, now = Date.now()): boolean {
  return sample !== undefined && now - Date.parse(sample.at) <= FRESH_INTERVALS * intervalSeconds * 1000 + SEND_EVERY_MS;
}

/** Agents online/offline, and how many hosts' samples are arriving. */
export async function monitoringStatus(db: Database, organizationId: string): Promise<MonitoringStatus> {
  const [hosts, latest, settings] = await Promise.all([
    allHosts(db, organizationId),
    latestSamples(db, organizationId),
    getMonitoringSettings(db, organizationId),
  ]);
  const interval = settings.sampleIntervalSeconds ?? DEFAULT_SAMPLE_INTERVAL_SECONDS;
  const active = hosts.filter((h) => effectiveState(h) === "online").length;
  const times = [...latest.values()].map((s) => s.at).sort();
  return {
    exporters: { total: hosts.length, active, inactive: hosts.length - active },
    reporting: hosts.filter((h) => isFresh(latest.get(h.id), interval)).length,
    lastSampleAt: times.at(-1) ?? null,
    sampleIntervalSeconds: interval,
    grafanaUrl: settings.grafanaUrl,
  };
}

export interface ContainerLatest {
  hostId: string;
  containerId: string;
  containerName: string;
  at: string;
  cpuPercent: number;
  memoryUsage: number;
  memoryLimit: number;
  memoryPercent: number;
}

/** The newest raw sample of each container on the organization's hosts (optionally only these names). */
export async function latestContainerSamples(db: Database, organizationId: string, names?: string[]): Promise<ContainerLatest[]> {
  if (names && names.length === 0) return [];
  const m = containerMetrics;
  return db
    .select({
      hostId: m.hostId,
      containerId: m.containerId,
      containerName: m.containerName,
      at: m.at,
      cpuPercent: m.cpuPercent,
      memoryUsage: m.memoryUsage,
      memoryLimit: m.memoryLimit,
      memoryPercent: m.memoryPercent,
    })
    .from(m)
    .where(
      and(
        eq(m.organizationId, organizationId),
        eq(m.resolution, RAW),
        names ? inArray(m.containerName, names) : undefined,
        sql`${m.at} = (select max(c2.at) from container_metrics c2 where c2.host_id = ${m.hostId} and c2.container_id = ${m.containerId} and c2.resolution = ${RAW})`,
      ),
    );
}

/** A server's newest container sample (its container on its host, by the container's stable name). */
export async function serverLatest(db: Database, server: ServerRow): Promise<ContainerLatest | null> {
  const rows = await latestContainerSamples(db, server.organizationId, [serverContainerName(server)]);
  return rows.filter((r) => r.hostId === server.hostId).sort((a, b) => b.at.localeCompare(a.at))[0] ?? null;
}

// ---- Prometheus text exposition (version 0.0.4) -------------------------------------------------------

/** `# HELP`/`# TYPE` once per family, then its samples; label values escaped as the format asks. */
class Exposition {
  private readonly families = new Map<string, { help: string; type: "gauge" | "counter"; lines: string[] }>();

  family(name: string, type: "gauge" | "counter", help: string) {
    if (!this.families.has(name)) this.families.set(name, { help, type, lines: [] });
    return this;
  }

  sample(name: string, labels: Record<string, string>, value: number | null | undefined) {
    if (value === null || value === undefined || !Number.isFinite(value)) return;
    const family = this.families.get(name);
    if (!family) throw new Error(`metric family ${name} was not declared`);
    const text = Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"')}"`)
      .join(",");
    family.lines.push(`${name}${text ? `{${text}}` : ""} ${value}`);
  }

  toString(): string {
    const out: string[] = [];
    for (const [name, f] of this.families) {
      out.push(`# HELP ${name} ${f.help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n")}`, `# TYPE ${name} ${f.type}`, ...f.lines);
    }
    return `${out.join("\n")}\n`;
  }
}

const HOST_GAUGES: Array<[string, string, (s: HostMetricRow) => number | null]> = [
  ["pier_host_cpu_usage_percent", "CPU in use on the host, percent of all cores.", (s) => s.cpuPercent],
  ["pier_host_memory_usage_percent", "Memory in use on the host, percent.", (s) => s.memoryPercent],
  ["pier_host_memory_used_bytes", "Memory in use on the host.", (s) => s.memoryUsed],
  ["pier_host_memory_total_bytes", "The host's memory.", (s) => s.memoryTotal],
  ["pier_host_disk_usage_percent", "Disk in use on the filesystem Docker stores its data on, percent.", (s) => s.diskPercent],
  ["pier_host_disk_used_bytes", "Disk in use on the filesystem Docker stores its data on.", (s) => s.diskUsed],
  ["pier_host_disk_total_bytes", "Size of the filesystem Docker stores its data on.", (s) => s.diskTotal],
  ["pier_host_network_receive_bytes_per_second", "Bytes received per second over the last sampling interval.", (s) => s.networkIn],
  ["pier_host_network_transmit_bytes_per_second", "Bytes sent per second over the last sampling interval.", (s) => s.networkOut],
  ["pier_host_load1", "1-minute load average.", (s) => s.load1],
  ["pier_host_load5", "5-minute load average.", (s) => s.load5],
  ["pier_host_load15", "15-minute load average.", (s) => s.load15],
  ["pier_host_containers_running", "Containers running on the host.", (s) => s.containersRunning],
];

/**
 * The latest values of the organization's hosts and servers (and every other container the agents
 * sample), in Prometheus' text format: gauges with `host`/`host_id` labels (and `server`,
 * `server_id`, `role` on a server's container), plus each sample's age as a timestamp gauge, so a
 * scraper can tell a stale value from a live one.
 */
export async function prometheusExposition(db: Database, organizationId: string): Promise<string> {
  const [hosts, latest, servers, containers] = await Promise.all([
    allHosts(db, organizationId),
    latestSamples(db, organizationId),
    listServers(db, organizationId),
    latestContainerSamples(db, organizationId),
  ]);
  const x = new Exposition();
  x.family("pier_host_up", "gauge", "1 while the host's agent is connected, else 0.");
  x.family("pier_host_last_sample_timestamp_seconds", "gauge", "When the host's newest sample was taken (Unix seconds).");
  for (const [name, help] of HOST_GAUGES) x.family(name, "gauge", help);
  const hostLabels = (h: HostRow) => ({ host_id: h.id, host: h.name });
  for (const h of hosts) {
    x.sample("pier_host_up", hostLabels(h), effectiveState(h) === "online" ? 1 : 0);
    const s = latest.get(h.id);
    if (!s) continue;
    x.sample("pier_host_last_sample_timestamp_seconds", hostLabels(h), Date.parse(s.at) / 1000);
    for (const [name, , pick] of HOST_GAUGES) x.sample(name, hostLabels(h), pick(s));
  }

  x.family("pier_server_info", "gauge", "1 for each server Pier manages, with its status, role and address as labels.");
  x.family("pier_container_cpu_usage_percent", "gauge", "CPU the container uses, percent of one core times the host's cores.");
  x.family("pier_container_memory_usage_bytes", "gauge", "Memory the container uses.");
  x.family("pier_container_memory_limit_bytes", "gauge", "The container's memory limit (the host's memory when it has none).");
  x.family("pier_container_memory_usage_percent", "gauge", "Memory the container uses, percent of its limit.");
  x.family("pier_container_last_sample_timestamp_seconds", "gauge", "When the container's newest sample was taken (Unix seconds).");
  const hostName = new Map(hosts.map((h) => [h.id, h.name]));
  const serverByContainer = new Map(servers.filter((s) => s.hostId).map((s) => [`${s.hostId}/${serverContainerName(s)}`, s]));
  for (const s of servers)
    x.sample(
      "pier_server_info",
      {
        server_id: s.id,
        server: s.name,
        alias: String(s.alias),
        role: s.role ?? "",
        status: s.status,
        ip_address: s.ipAddress ?? "",
        host_id: s.hostId ?? "",
      },
      1,
    );
  for (const c of containers) {
    const server = serverByContainer.get(`${c.hostId}/${c.containerName}`);
    const labels = {
      host_id: c.hostId,
      host: hostName.get(c.hostId) ?? "",
      container_id: c.containerId.slice(0, 12),
      container: c.containerName,
      ...(server ? { server_id: server.id, server: server.name, role: server.role ?? "" } : {}),
    };
    x.sample("pier_container_cpu_usage_percent", labels, c.cpuPercent);
    x.sample("pier_container_memory_usage_bytes", labels, c.memoryUsage);
    x.sample("pier_container_memory_limit_bytes", labels, c.memoryLimit);
    x.sample("pier_container_memory_usage_percent", labels, c.memoryPercent);
    x.sample("pier_container_last_sample_timestamp_seconds", labels, Date.parse(c.at) / 1000);
  }
  return x.toString();
}
