import { z } from "@hono/zod-openapi";
import { notFound } from "../errors.ts";
import { requireAuth } from "../middleware/auth.ts";
import { getHost } from "../services/hosts.ts";
import * as metrics from "../services/metrics.ts";
import { authedRoute, createRouter, jsonResponse, validationErrors } from "./openapi.ts";

/** Mounted under /api/v1/hosts, beside the host and container routes. */
export const metricRoutes = createRouter();
metricRoutes.use("*", requireAuth());

const Instant = z.iso
  .datetime({ offset: true })
  .transform((v) => new Date(v).toISOString())
  // 8.64e15 ms is the last instant a Date can hold; larger numbers are a 422, not a RangeError.
  .or(
    z.coerce
      .number()
      .int()
      .min(0)
      .max(8.64e15)
      .transform((n) => new Date(n < 1e12 ? n * 1000 : n).toISOString()),
  );

const RangeQuery = z.object({
  from: Instant.optional().openapi({ description: "ISO 8601, or epoch seconds/milliseconds. Default: an hour before `to`." }),
  to: Instant.optional().openapi({ description: "Default: now." }),
  step: z.coerce
    .number()
    .int()
    .min(1)
    .max(30 * 86400)
    .optional()
    .openapi({
      description:
        "Seconds per point. Default: about 240 points. Ranges older than a day, or steps of 5 minutes or more, read the 5-minute rollups.",
    }),
});

const hostPath = (name: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name, in: "path" }, example: "hst_0123456789abcdefghij" });

const HostPoint = z
  .object({
    at: z.string(),
    samples: z.number().int(),
    cpu_percent: z.number().nullable(),
    cpu_max: z.number().nullable(),
    memory_percent: z.number().nullable(),
    memory_max: z.number().nullable(),
    memory_used: z.number().nullable().openapi({ description: "Bytes." }),
    memory_total: z.number().nullable(),
    disk_percent: z.number().nullable(),
    disk_used: z.number().nullable(),
    disk_total: z.number().nullable(),
    network_in: z.number().nullable().openapi({ description: "Bytes per second." }),
    network_out: z.number().nullable(),
    load_1: z.number().nullable(),
    load_5: z.number().nullable(),
    load_15: z.number().nullable(),
    containers_running: z.number().nullable(),
  })
  .openapi("HostMetricsPoint");

const Series = z.object({ from: z.string(), to: z.string(), step: z.number().int(), resolution: z.enum(["raw", "5m"]) });

const round = (v: number | null, digits = 2) => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);

const seriesMeta = (r: metrics.ResolvedRange) => ({
  from: new Date(r.from).toISOString(),
  to: new Date(r.to).toISOString(),
  step: r.step,
  resolution: r.resolution === 0 ? ("raw" as const) : ("5m" as const),
});

metricRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}/metrics",
    tags: ["metrics"],
    summary: "A host's CPU, memory, disk, network, load and running containers over time",
    request: { params: z.object({ id: hostPath("id") }), query: RangeQuery },
    responses: {
      200: jsonResponse(
        Series.extend({ host_id: z.string(), points: z.array(HostPoint) }).openapi("HostMetrics"),
        "One point per step that has samples, oldest first.",
      ),
      422: validationErrors[422],
    },
    errors: ["notFound"],
  }),
  async (c) => {
    const host = await getHost(c.var.db, c.var.principal.organizationId, c.req.valid("param").id);
    const range = metrics.resolveRange(c.req.valid("query"));
    const points = await metrics.hostSeries(c.var.db, host.id, range);
    return c.json(
      {
        host_id: host.id,
        ...seriesMeta(range),
        points: points.map((p) => ({
          at: p.at,
          samples: p.samples,
          cpu_percent: round(p.cpuPercent),
          cpu_max: round(p.cpuMax),
          memory_percent: round(p.memoryPercent),
          memory_max: round(p.memoryMax),
          memory_used: round(p.memoryUsed, 0),
          memory_total: round(p.memoryTotal, 0),
          disk_percent: round(p.diskPercent),
          disk_used: round(p.diskUsed, 0),
          disk_total: round(p.diskTotal, 0),
          network_in: round(p.networkIn, 0),
          network_out: round(p.networkOut, 0),
          load_1: round(p.load1),
          load_5: round(p.load5),
          load_15: round(p.load15),
          containers_running: round(p.containersRunning, 1),
        })),
      },
      200,
    );
  },
);

const ContainerPoint = z
  .object({
    at: z.string(),
    samples: z.number().int(),
    cpu_percent: z.number(),
    cpu_max: z.number(),
    memory_usage: z.number(),
    memory_limit: z.number(),
    memory_percent: z.number(),
    memory_max: z.number(),
  })
  .openapi("ContainerMetricsPoint");

metricRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{hostId}/containers/{id}/metrics",
    tags: ["metrics"],
    summary: "A container's CPU and memory over time (by id, id prefix or name), from the agent's stats cache",
    request: {
      params: z.object({
        hostId: hostPath("hostId"),
        id: z
          .string()
          .min(1)
          .max(128)
          .openapi({ param: { name: "id", in: "path" } }),
      }),
      query: RangeQuery,
    },
    responses: {
      200: jsonResponse(
        Series.extend({
          host_id: z.string(),
          container_id: z.string(),
          container_name: z.string(),
          points: z.array(ContainerPoint),
        }).openapi("ContainerMetrics"),
        "One point per step that has samples.",
      ),
      422: validationErrors[422],
    },
    errors: ["notFound"],
  }),
  async (c) => {
    const { hostId, id } = c.req.valid("param");
    const host = await getHost(c.var.db, c.var.principal.organizationId, hostId);
    const range = metrics.resolveRange(c.req.valid("query"));
    const series = await metrics.containerSeries(c.var.db, host.id, id, range);
    if (!series) throw notFound(`Metrics of container ${id} on host ${host.name}`);
    return c.json(
      {
        host_id: host.id,
        container_id: series.id,
        container_name: series.name,
        ...seriesMeta(range),
        points: series.points.map((p) => ({
          at: p.at,
          samples: p.samples,
          cpu_percent: round(p.cpuPercent)!,
          cpu_max: round(p.cpuMax)!,
          memory_usage: Math.round(p.memoryUsage),
          memory_limit: p.memoryLimit,
          memory_percent: round(p.memoryPercent)!,
          memory_max: round(p.memoryMax)!,
        })),
      },
      200,
    );
  },
);
