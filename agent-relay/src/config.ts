import * as z from "zod/mini";
import { LOG_LEVELS, type LogLevel } from "./log.ts";
import { HEARTBEAT_INTERVAL_BOUNDS_MS } from "./protocol.ts";

/** What `startAgent` needs from the environment; the tuning knobs live in AgentOptions. */
export interface AgentEnvConfig {
  url: string;
  token: string;
  dockerHost?: string;
  logLevel: LogLevel;
  statsPushMs?: number;
  metricsIntervalMs?: number;
  metricsFlushMs?: number;
  metricsDiskPath?: string;
  heartbeatMs?: number;
}

const EnvSchema = z.object({
  PIER_URL: z
    .string({ error: "PIER_URL is not set: point it at the control plane, e.g. http://127.0.0.1:8787" })
    .check(z.refine((value) => /^(https?|wss?):\/\/[^/]/.test(value), "PIER_URL must start with http://, https://, ws:// or wss://")),
  PIER_AGENT_TOKEN: z
    .string({ error: "PIER_AGENT_TOKEN is not set: create a host with POST /api/v1/hosts and use its agent_token" })
    .check(z.minLength(1, "PIER_AGENT_TOKEN is empty")),
  DOCKER_HOST: z.optional(z.string()),
  PIER_LOG_LEVEL: z.optional(z.enum(LOG_LEVELS)),
  PIER_STATS_PUSH_MS: z.optional(z.coerce.number().check(z.int(), z.gte(0))),
  PIER_METRICS_INTERVAL_MS: z.optional(z.coerce.number().check(z.int(), z.gte(0))),
  PIER_METRICS_FLUSH_MS: z.optional(z.coerce.number().check(z.int(), z.gte(100))),
  PIER_METRICS_DISK_PATH: z.optional(z.string().check(z.minLength(1))),
  // Announced in hello; the control plane honours only these bounds, so others are refused here.
  PIER_HEARTBEAT_MS: z.optional(
    z.coerce
      .number()
      .check(
        z.int(),
        z.gte(HEARTBEAT_INTERVAL_BOUNDS_MS.min, `PIER_HEARTBEAT_MS must be at least ${HEARTBEAT_INTERVAL_BOUNDS_MS.min}`),
        z.lte(HEARTBEAT_INTERVAL_BOUNDS_MS.max, `PIER_HEARTBEAT_MS must be at most ${HEARTBEAT_INTERVAL_BOUNDS_MS.max}`),
      ),
  ),
});

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export function loadConfig(env: Record<string, string | undefined> = process.env): AgentEnvConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => issue.message).join("; "));
  const e = parsed.data;
  return {
    url: e.PIER_URL,
    token: e.PIER_AGENT_TOKEN.trim(),
    dockerHost: e.DOCKER_HOST || undefined,
    logLevel: e.PIER_LOG_LEVEL ?? "info",
    statsPushMs: e.PIER_STATS_PUSH_MS,
    metricsIntervalMs: e.PIER_METRICS_INTERVAL_MS,
    metricsFlushMs: e.PIER_METRICS_FLUSH_MS,
    metricsDiskPath: e.PIER_METRICS_DISK_PATH,
    heartbeatMs: e.PIER_HEARTBEAT_MS,
  };
}

export const CONNECT_PATH = "/api/v1/agent/connect";

/** http→ws, https→wss, keeping any path prefix the control plane is mounted under. */
export function connectUrl(pierUrl: string): string {
  const url = new URL(pierUrl);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  url.pathname = url.pathname.replace(/\/+$/, "") + CONNECT_PATH;
  url.search = "";
  url.hash = "";
  return url.toString();
}
