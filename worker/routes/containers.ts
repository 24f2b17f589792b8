import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { ContainerCreateArgs, ContainerExecArgs, ContainerRef, StatsSampleSchema, type ContainerSummary, type OpName } from "#protocol";
import { classic } from "../lib/protocol-schema.ts";
import type { AppEnv } from "../env.ts";
import { requireAuth } from "../middleware/auth.ts";
import { getHost } from "../services/hosts.ts";
import { runOnHost, runOnOrgHost, streamFromHost } from "../services/host-relay.ts";
import { createContainerOrPull, maskEnvBelowAdmin } from "../services/containers.ts";
import { requireRole } from "../services/principal.ts";
import { authedRoute, createRouter, HostParam, jsonBody, jsonResponse, queryBool, relayErrors, validationErrors } from "./openapi.ts";
import { readRelayStream } from "../lib/relay.ts";
import { authedActor } from "../middleware/request-context.ts";
import { BulkRequest, startHostTask } from "../services/host-tasks.ts";
import { TaskStarted, toTaskStarted } from "./tasks.ts";

export const containerRoutes = createRouter();
containerRoutes.use("*", requireAuth());

const ContainerParam = HostParam.extend({
  id: classic(ContainerRef).openapi({ param: { name: "id", in: "path" }, description: "Container id (full or short) or name." }),
});

/** The host of the path, within the caller's organization; 404 otherwise. */
async function hostOf(c: Context<AppEnv>, hostId: string) {
  return getHost(c.var.db, c.var.principal.organizationId, hostId);
}

/** Runs `op` on the path's host of the caller's organization (404 otherwise), with no database read when its agent is connected. */
const onHost = <O extends OpName>(c: Context<AppEnv>, hostId: string, op: O, args: unknown) =>
  runOnOrgHost(c.var.db, c.env, c.var.principal.organizationId, hostId, op, args);

export const ContainerView = z
  .object({
    id: z.string(),
    short_id: z.string(),
    name: z.string(),
    image: z.string(),
    state: z.string(),
    status: z.string(),
    created_at: z.string(),
    ports: z.array(z.object({ ip: z.string().optional(), private_port: z.number(), public_port: z.number().optional(), type: z.string() })),
    labels: z.record(z.string(), z.string()),
    managed: z.boolean(),
  })
  .openapi("Container");

export const toContainerView = (s: ContainerSummary): z.infer<typeof ContainerView> => ({
  id: s.Id,
  short_id: s.Id.slice(0, 12),
  name: (s.Names[0] ?? "").replace(/^\//, ""),
  image: s.Image,
  state: s.State,
  status: s.Status,
  created_at: new Date(s.Created * 1000).toISOString(),
  ports: (s.Ports ?? []).map((p) => ({
    ...(p.IP ? { ip: p.IP } : {}),
    private_port: p.PrivatePort,
    ...(p.PublicPort ? { public_port: p.PublicPort } : {}),
    type: p.Type,
  })),
  labels: s.Labels ?? {},
  managed: s.Labels?.["dev.pier.managed"] === "true",
});

containerRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{hostId}/containers",
    tags: ["containers"],
    summary: "Containers on a host (running, or all with ?all=true)",
    request: { params: HostParam, query: z.object({ all: queryBool.optional() }) },
    responses: {
      200: jsonResponse(z.object({ containers: z.array(ContainerView) }), "The containers."),
    },
    errors: ["notFound", "relay"],
  }),
  async (c) => {
    const list = await onHost(c, c.req.valid("param").hostId, "container.list", { all: c.req.valid("query").all ?? false });
    return c.json({ containers: list.map(toContainerView) }, 200);
  },
);

containerRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{hostId}/containers",
    tags: ["containers"],
    summary: "Create a container and (unless start is false) start it, like `docker run -d` (member+)",
    description:
      "`pull_policy` says when the image is pulled: `missing` (default) when the host lacks it, `always`, or `never` (a missing image is then a 404 that says how to pull it). Without a pull the container is created at once (201). With one the answer is 202 with a task: it shows the pull's progress, then creates the container; follow it at `/api/v1/tasks/{id}` — when it has succeeded, its `result` is the container (`id`, `name`, `warnings`, `started`).",
    request: { params: HostParam, body: jsonBody(classic(ContainerCreateArgs).openapi("ContainerCreateRequest")) },
    responses: {
      201: jsonResponse(z.object({ id: z.string(), name: z.string(), warnings: z.array(z.string()), started: z.boolean() }), "Created."),
      202: jsonResponse(TaskStarted, "The image is being pulled; the task creates the container when the pull ends."),
    },
    errors: ["validation", "notFound", "conflict", "relay"],
  }),
  async (c) => {
    requireRole(c.var.principal, "member", "create containers");
    const body = c.req.valid("json");
    // A bind mount of a host path (/, /etc, the Docker socket) is root on the host: admins only.
    if (body.volumes?.some((v) => v.source.startsWith("/"))) requireRole(c.var.principal, "admin", "bind-mount host paths");
    const outcome = await createContainerOrPull(c.var.db, c.env, authedActor(c), c.req.valid("param").hostId, {
      ...body,
      start: body.start ?? true,
    });
    if ("task" in outcome) return c.json(toTaskStarted(outcome.task), 202);
    return c.json(outcome.created, 201);
  },
);

containerRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{hostId}/containers/{id}",
    tags: ["containers"],
    summary: "Inspect a container (the engine's full document)",
    request: { params: ContainerParam },
    responses: {
      200: jsonResponse(z.record(z.string(), z.unknown()), "Docker's inspect document."),
    },
    errors: ["notFound", "relay"],
  }),
  async (c) => {
    const { hostId, id } = c.req.valid("param");
    return c.json(maskEnvBelowAdmin(c.var.principal, await onHost(c, hostId, "container.inspect", { id })), 200);
  },
);

const StateChange = z.object({ id: z.string(), changed: z.boolean(), note: z.string().optional() }).openapi("StateChange");

/** start/stop/restart/kill/pause/unpause share one shape; "already started" is a 200 with changed: false. */
function stateRoute(action: "start" | "stop" | "restart" | "kill" | "pause" | "unpause", query: z.ZodObject, summary: string) {
  containerRoutes.openapi(
    authedRoute({
      method: "post",
      path: `/{hostId}/containers/{id}/${action}`,
      tags: ["containers"],
      summary,
      request: { params: ContainerParam, query },
      responses: {
        200: jsonResponse(StateChange, "Done; `changed: false` when it already was so (Docker's 304)."),
        422: validationErrors[422],
      },
      errors: ["notFound", "conflict", "relay"],
    }),
    async (c) => {
      requireRole(c.var.principal, "member", `${action} containers`);
      const { hostId, id } = c.req.valid("param");
      const args = { id, ...(c.req.valid("query") as Record<string, unknown>) };
      return c.json((await onHost(c, hostId, `container.${action}` as OpName, args)) as z.infer<typeof StateChange>, 200);
    },
  );
}

const stopQuery = z.object({
  timeout: z.coerce.number().int().min(0).max(3600).optional().openapi({ description: "Seconds to wait before killing (default 10)." }),
});
stateRoute("start", z.object({}), "Start a container (member+)");
stateRoute("stop", stopQuery, "Stop a container, killing it after `timeout` seconds (member+)");
stateRoute("restart", stopQuery, "Restart a container (member+)");
stateRoute(
  "kill",
  z.object({
    signal: z
      .string()
      .regex(/^[A-Z0-9+-]+$/i)
      .max(16)
      .optional(),
  }),
  "Send a signal (default SIGKILL) (member+)",
);
stateRoute("pause", z.object({}), "Pause a container (member+)");
stateRoute("unpause", z.object({}), "Unpause a container (member+)");

containerRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{hostId}/containers/{id}",
    tags: ["containers"],
    summary: "Remove a container (force: even if running; volumes: its anonymous volumes too) (member+)",
    request: { params: ContainerParam, query: z.object({ force: queryBool.optional(), volumes: queryBool.optional() }) },
    responses: { 204: { description: "Removed." } },
    errors: ["notFound", "conflict", "relay"],
  }),
  async (c) => {
    requireRole(c.var.principal, "member", "remove containers");
    const { hostId, id } = c.req.valid("param");
    await onHost(c, hostId, "container.remove", { id, ...c.req.valid("query") });
    return c.body(null, 204);
  },
);

const LogsQuery = z.object({
  tail: z.union([z.literal("all"), z.coerce.number().int().min(0).max(100_000)]).optional(),
  since: z.string().max(40).optional().openapi({ description: "Epoch seconds or an ISO 8601 time." }),
  timestamps: queryBool.optional(),
  stdout: queryBool.optional(),
  stderr: queryBool.optional(),
  follow: queryBool.optional().openapi({ description: "Stream as SSE (`event: log`) until the client disconnects." }),
});

containerRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{hostId}/containers/{id}/logs",
    tags: ["containers"],
    summary: "A container's logs; with follow=true a live SSE stream",
    request: { params: ContainerParam, query: LogsQuery },
    responses: {
      200: {
        description: "`{lines: [{stream, text}], truncated}`, or with follow an SSE stream of `log` events.",
        content: {
          "application/json": {
            schema: z.object({
              lines: z.array(z.object({ stream: z.enum(["stdout", "stderr"]), text: z.string() })),
              truncated: z.boolean(),
            }),
          },
          "text/event-stream": { schema: z.string() },
        },
      },
      422: validationErrors[422],
    },
    errors: ["notFound", "relay"],
  }),
  async (c) => {
    const { hostId, id } = c.req.valid("param");
    const host = await hostOf(c, hostId);
    const q = c.req.valid("query");
    const since = q.since === undefined ? undefined : /^\d+(\.\d+)?$/.test(q.since) ? Number(q.since) : q.since;
    const args = { id, tail: q.tail, since, timestamps: q.timestamps, stdout: q.stdout, stderr: q.stderr };
    if (!q.follow) return c.json(await runOnHost(c.env, host.id, "container.logs", args), 200);
    const { stream, cancel } = await streamFromHost(c.env, host.id, "container.logs", { ...args, follow: true });
    return streamSSE(c, async (sse) => {
      const reader = stream.getReader();
      sse.onAbort(() => {
        void cancel().catch(() => undefined);
        void reader.cancel().catch(() => undefined);
      });
      let seq = 0;
      // Chunks are raw output: one SSE event per line, a line split across chunks kept whole.
      const partial: Record<string, string> = { stdout: "", stderr: "" };
      const emit = (stream: string, text: string) =>
        sse.writeSSE({ event: "log", id: String(seq++), data: JSON.stringify({ stream, text }) });
      const outcome = await readRelayStream(reader, async (chunk) => {
        const stream = chunk.stream ?? "stdout";
        const lines = (partial[stream] + chunk.data).split("\n");
        partial[stream] = lines.pop() ?? "";
        for (const text of lines) await emit(stream, text.replace(/\r$/, ""));
      });
      // The reader went away (the response was cancelled): no one to tell.
      if (!outcome.ok && outcome.error.code === "incomplete") return;
      for (const [stream, rest] of Object.entries(partial)) if (rest) await emit(stream, rest);
      await sse.writeSSE({ event: "end", data: JSON.stringify(outcome.ok ? {} : { error: outcome.error.message }) });
    }) as never;
  },
);

containerRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{hostId}/containers/{id}/top",
    tags: ["containers"],
    summary: "Processes running in a container",
    request: { params: ContainerParam },
    responses: {
      200: jsonResponse(z.object({ titles: z.array(z.string()), processes: z.array(z.array(z.string())) }), "ps output."),
    },
    errors: ["notFound", "conflict", "relay"],
  }),
  async (c) => {
    const { hostId, id } = c.req.valid("param");
    const top = await onHost(c, hostId, "container.top", { id });
    return c.json({ titles: top.Titles, processes: top.Processes }, 200);
  },
);

containerRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{hostId}/containers/{id}/exec",
    tags: ["containers"],
    summary: "Run a command in a container and return its exit code and output (member+)",
    request: { params: ContainerParam, body: jsonBody(classic(ContainerExecArgs).omit({ id: true }).openapi("ExecRequest")) },
    responses: {
      200: jsonResponse(
        z.object({ exit_code: z.number(), stdout: z.string(), stderr: z.string(), truncated: z.boolean() }),
        "The command's result.",
      ),
    },
    errors: ["validation", "notFound", "conflict", "relay"],
  }),
  async (c) => {
    requireRole(c.var.principal, "member", "exec in containers");
    const { hostId, id } = c.req.valid("param");
    return c.json(await onHost(c, hostId, "container.exec", { id, ...c.req.valid("json") }), 200);
  },
);

const Sample = classic(StatsSampleSchema).openapi("StatsSample");

containerRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{hostId}/containers/{id}/stats",
    tags: ["containers"],
    summary: "One resource-usage sample of a container",
    request: { params: ContainerParam },
    responses: { 200: jsonResponse(Sample, "A sample (bytes, percent).") },
    errors: ["notFound", "relay"],
  }),
  async (c) => {
    const { hostId, id } = c.req.valid("param");
    return c.json(await onHost(c, hostId, "container.stats", { id }), 200);
  },
);

containerRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{hostId}/stats",
    tags: ["containers"],
    summary: "The latest sample of every running container, from the agent's live cache",
    request: { params: HostParam },
    responses: {
      200: jsonResponse(z.object({ at: z.string(), samples: z.array(Sample) }), "Samples."),
    },
    errors: ["notFound", "relay"],
  }),
  async (c) => {
    const all = await onHost(c, c.req.valid("param").hostId, "stats.all", {});
    return c.json({ at: new Date(all.at).toISOString(), samples: all.samples }, 200);
  },
);

containerRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{hostId}/containers/bulk",
    tags: ["containers"],
    summary: "Start, stop, restart, kill, pause, unpause or remove many containers, as a task (member+)",
    description:
      "Answers 202 with the task; `result.items` on the task holds each container's outcome as it goes. One container failing does not stop the others; the task then ends `failed` naming them.",
    request: { params: HostParam, body: jsonBody(BulkRequest) },
    responses: {
      202: jsonResponse(TaskStarted, "The action started."),
      503: relayErrors[503],
    },
    errors: ["validation", "notFound"],
  }),
  async (c) => {
    requireRole(c.var.principal, "member", "act on containers");
    const host = await getHost(c.var.db, c.var.principal.organizationId, c.req.valid("param").hostId);
    return c.json(
      toTaskStarted(await startHostTask(c.var.db, c.env, authedActor(c), host, { kind: "container.bulk", args: c.req.valid("json") })),
      202,
    );
  },
);
