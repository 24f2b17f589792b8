import * as z from "zod/mini";

/** One container's CPU and memory at the moment of a host sample, from the agent's stats cache. */
export const ContainerUsageSchema = z.object({
  id: z.string(),
  name: z.string(),
  cpu_percent: z.number(),
  memory_usage: z.number(),
  memory_limit: z.number(),
  memory_percent: z.number(),
});
export type ContainerUsage = z.infer<typeof ContainerUsageSchema>;

/**
 * One sample of the host itself, taken by the agent every `PIER_METRICS_INTERVAL_MS` (15 s by
 * default). Percentages are 0–100; network figures are bytes per second since the previous sample.
 */
export const HostSampleSchema = z.object({
  /** Agent clock, epoch ms. */
  at: z.number(),
  cpu_percent: z.number().check(z.gte(0)),
  memory_used: z.number().check(z.gte(0)),
  memory_total: z.number().check(z.gte(0)),
  memory_percent: z.number().check(z.gte(0)),
  disk_used: z.number().check(z.gte(0)),
  disk_total: z.number().check(z.gte(0)),
  disk_percent: z.number().check(z.gte(0)),
  net_in: z.number().check(z.gte(0)),
  net_out: z.number().check(z.gte(0)),
  /** 1, 5 and 15 minute load averages. */
  load: z.tuple([z.number(), z.number(), z.number()]),
  containers_running: z.number().check(z.int(), z.gte(0)),
  containers: z.array(ContainerUsageSchema).check(z.maxLength(2000)),
});
export type HostSample = z.infer<typeof HostSampleSchema>;

/** Most samples one `metrics` message carries (an hour at the default interval). */
export const MAX_METRICS_BATCH = 240;

/** The agent's own sampling interval when nobody set one (PIER_METRICS_INTERVAL_MS's default). */
export const DEFAULT_METRICS_INTERVAL_MS = 15_000;

/**
 * `metrics.configure`: the organization's sampling interval (its monitoring settings), sent by the
 * HostRelay when it changes and each time the agent says hello. `null` goes back to the agent's
 * own setting. Sending stays batched (PIER_METRICS_FLUSH_MS).
 */
export const MetricsConfigureArgs = z.object({
  interval_ms: z.nullable(z.number().check(z.int(), z.gte(1_000), z.lte(3_600_000))),
});
export interface MetricsConfigureResult {
  /** The interval the agent samples at now. */
  interval_ms: number;
  /** What it falls back to (its PIER_METRICS_INTERVAL_MS, else 15 s). */
  default_interval_ms: number;
}

export const METRICS_OPS = {
  "metrics.configure": { args: MetricsConfigureArgs, timeoutMs: 10_000, streaming: false, idempotent: true },
} as const;
