import { createRoute, z } from "@hono/zod-openapi";
import { streamSSE, type SSEStreamingApi } from "hono/streaming";
import type { FollowMessage } from "../durable/deploy-queue.ts";
import type { Bindings } from "../env.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import type { Database } from "../db/client.ts";
import * as deployments from "../services/deployments.ts";
import { DeploymentView, LogPiece, QueuedDeploymentView, toDeploymentView } from "./app-schemas.ts";
import { authErrors, bearerSecurity, conflictError, createRouter, IdParam, jsonResponse, notFoundError } from "./openapi.ts";

export const deploymentRoutes = createRouter();
// The log stream accepts `?access_token=` too (a browser EventSource cannot send headers); the
// other routes, which change things, take credentials in headers only.
deploymentRoutes.use("/:id/logs", requireAuth({ allowQueryToken: true }));
deploymentRoutes.use("*", requireAuth());

const DeploymentId = IdParam("id", "dpl_0123456789abcdefghij");

deploymentRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags: ["deployments"],
    summary: "A deployment: status, commit, image, error, task",
    security: bearerSecurity,
    request: { params: DeploymentId },
    responses: { 200: jsonResponse(DeploymentView, "The deployment."), ...authErrors, ...notFoundError },
  }),
  async (c) =>
    c.json(toDeploymentView(await deployments.getDeployment(c.var.db, c.var.principal.organizationId, c.req.valid("param").id)), 200),
);

deploymentRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/cancel",
    tags: ["deployments"],
    summary: "Cancel: a queued deployment is dropped, a running one aborted on its host (member+)",
    security: bearerSecurity,
    request: { params: DeploymentId },
    responses: {
      200: jsonResponse(DeploymentView, "The deployment (a running one may still be `building` for a moment)."),
      ...authErrors,
      ...notFoundError,
      ...conflictError,
    },
  }),
  async (c) => c.json(toDeploymentView(await deployments.cancelDeployment(c.var.db, c.env, authedActor(c), c.req.valid("param").id)), 200),
);

deploymentRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/rollback",
    tags: ["deployments"],
    summary: "Roll back to this (successful) deployment: its image runs again (member+)",
    security: bearerSecurity,
    request: { params: DeploymentId },
    responses: { 202: jsonResponse(QueuedDeploymentView, "The rollback deployment."), ...authErrors, ...notFoundError, ...conflictError },
  }),
  async (c) => {
    const result = await deployments.rollback(c.var.db, c.env, authedActor(c), c.req.valid("param").id);
    c.header("Location", `/api/v1/deployments/${result.deployment.id}`);
    return c.json({ ...toDeploymentView(result.deployment), coalesced: result.coalesced }, 202);
  },
);

const LogsQuery = z.object({
  after: z.coerce
    .number()
    .int()
    .min(-1)
    .optional()
    .openapi({ description: "Only pieces with a larger seq (the `next_after` of the previous read)." }),
  limit: z.coerce.number().int().min(1).max(5000).optional(),
  follow: z
    .enum(["true", "false", "1", "0"])
    .optional()
    .transform((v) => v === "true" || v === "1")
    .openapi({ description: "Stream as SSE: `log` events (id = seq) live until the deployment ends, then one `end` event." }),
  access_token: z.string().optional(),
});

const LogsView = z
  .object({ deployment_id: z.string(), status: z.string(), finished: z.boolean(), logs: z.array(LogPiece), next_after: z.number() })
  .openapi("DeploymentLogs");

const toPiece = (row: { seq: number; stream: string; data: string; createdAt?: string; at?: string }) => ({
  seq: row.seq,
  stream: row.stream as "stdout" | "stderr" | "system",
  text: row.data,
  at: row.createdAt ?? row.at ?? "",
});

deploymentRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/logs",
    tags: ["deployments"],
    summary: "Build and deploy output: stored pieces as JSON, or with follow=true a live SSE stream (resumes after Last-Event-ID)",
    security: bearerSecurity,
    request: { params: DeploymentId, query: LogsQuery },
    responses: {
      200: {
        description: "The output.",
        content: { "application/json": { schema: LogsView }, "text/event-stream": { schema: z.string() } },
      },
      ...authErrors,
      ...notFoundError,
    },
  }),
  async (c) => {
    const dep = await deployments.getDeployment(c.var.db, c.var.principal.organizationId, c.req.valid("param").id);
    const q = c.req.valid("query");
    const lastEventId = Number.parseInt(c.req.header("last-event-id") ?? "", 10);
    const after = q.after ?? (Number.isFinite(lastEventId) ? lastEventId : -1);
    if (!q.follow) {
      const rows = await deployments.readLogs(c.var.db, dep.id, after, q.limit ?? 1000);
      return c.json(
        {
          deployment_id: dep.id,
          status: dep.status,
          finished: deployments.isFinished(dep.status),
          logs: rows.map(toPiece),
          next_after: rows.at(-1)?.seq ?? after,
        },
        200,
      );
    }
    const db = c.var.db;
    const env = c.env;
    const orgId = c.var.principal.organizationId;
    return streamSSE(c, (sse) => followLogs(sse, db, env, orgId, dep, after)) as never;
  },
);

const POLL_MS = 5_000;
const KEEPALIVE_MS = 15_000;

/**
 * Live output: subscribe to the application's DeployQueue first (a hibernatable WebSocket, as for
 * events: the Worker holds the long HTTP stream, not the object), then send what is stored, then
 * what arrives, skipping pieces already sent. A slow poll of the database is the backstop for a
 * missed end (the deployment finished between the check and the subscription).
 */
async function followLogs(
  sse: SSEStreamingApi,
  db: Database,
  env: Bindings,
  orgId: string,
  dep: deployments.DeploymentRow,
  after: number,
): Promise<void> {
  let last = after;
  const emit = async (pieces: ReturnType<typeof toPiece>[]) => {
    for (const piece of pieces) {
      if (piece.seq <= last) continue;
      last = piece.seq;
      await sse.writeSSE({ event: "log", id: String(piece.seq), data: JSON.stringify(piece) });
    }
  };
  const drainStored = async () => {
    for (;;) {
      const rows = await deployments.readLogs(db, dep.id, last, 1000);
      if (rows.length === 0) return;
      await emit(rows.map(toPiece));
    }
  };

  let aborted = false;
  let wake: (() => void) | undefined;
  const live: FollowMessage[] = [];
  sse.onAbort(() => {
    aborted = true;
    wake?.();
  });

  let socket: WebSocket | undefined;
  if (!deployments.isFinished(dep.status)) {
    const res = await deployments
      .queueOf(env, dep.applicationId)
      .fetch("https://deploy-queue/follow", { headers: { upgrade: "websocket", "x-pier-deployment": dep.id } });
    socket = res.webSocket ?? undefined;
    if (socket) {
      socket.accept();
      socket.addEventListener("message", (m) => {
        live.push(JSON.parse(typeof m.data === "string" ? m.data : new TextDecoder().decode(m.data)) as FollowMessage);
        wake?.();
      });
      socket.addEventListener("close", () => wake?.());
    }
  }
  try {
    await drainStored();
    let end: { status: string; error: string | null } | null = null;
    let current = dep;
    let lastWrite = Date.now();
    while (!aborted && !end) {
      if (deployments.isFinished(current.status)) end = { status: current.status, error: current.error };
      for (const msg of live.splice(0)) {
        if (msg.type === "logs") await emit(msg.logs.map(toPiece));
        else end = { status: msg.status, error: msg.error };
      }
      if (end) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, POLL_MS);
      });
      wake = undefined;
      if (live.length === 0) {
        current = await deployments.getDeployment(db, orgId, dep.id);
        if (Date.now() - lastWrite >= KEEPALIVE_MS) {
          await sse.write(": keepalive\n\n");
          lastWrite = Date.now();
        }
      }
    }
    if (end && !aborted) {
      await drainStored();
      await sse.writeSSE({ event: "end", data: JSON.stringify(end) });
    }
  } finally {
    try {
      socket?.close(1000, "done");
    } catch {
      // already closed
    }
  }
}
