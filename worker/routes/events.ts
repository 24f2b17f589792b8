import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { AppEnv } from "../env.ts";
import { requireAuth } from "../middleware/auth.ts";
import { pipeEvents } from "../services/events.ts";
import { getHost } from "../services/hosts.ts";
import { authedRoute, createRouter } from "./openapi.ts";

/** SSE endpoints accept `?access_token=` too: a browser EventSource cannot send headers. */
export const eventRoutes = createRouter();
// Scoped to its own paths: this router is mounted at /api/v1, whose other paths are not its business.
for (const path of ["/events", "/hosts/:id/events"]) eventRoutes.use(path, requireAuth({ allowQueryToken: true }));

const list = z
  .string()
  .max(500)
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  );

const EventsQuery = z.object({
  host: list.optional().openapi({ description: "Host ids or names, comma-separated." }),
  type: list.optional().openapi({ description: "container, image, network, volume, host (a host's agent connecting or going away)" }),
  action: list.optional().openapi({ description: "start, die, …" }),
  access_token: z.string().optional(),
});

const sseResponse = {
  200: {
    description:
      "An SSE stream: a `ready` event once the subscription is live (nothing after it is missed), then `docker` events, and `host` events when a host's agent connects or goes away (`status`: online, disconnected, lost).",
    content: { "text/event-stream": { schema: z.string() } },
  },
};

function streamEvents(c: Context<AppEnv>, filter: { hosts?: string[]; types?: string[]; actions?: string[] }) {
  return streamSSE(c, async (sse) => {
    await pipeEvents(
      c.env,
      c.var.principal.organizationId,
      filter,
      sse,
      (e) =>
        sse.writeSSE({
          event: "docker",
          data: JSON.stringify({
            host_id: e.host_id,
            host_name: e.host_name,
            type: e.type,
            action: e.action,
            id: e.id,
            name: e.attributes.name ?? null,
            attributes: e.attributes,
            time: new Date(e.time).toISOString(),
          }),
        }),
      (e) =>
        sse.writeSSE({
          event: "host",
          data: JSON.stringify({ host_id: e.host_id, host_name: e.host_name, status: e.action, time: new Date(e.time).toISOString() }),
        }),
      // A browser re-reads what it shows on this frame: nothing published after it is missed.
      () => sse.writeSSE({ event: "ready", data: "{}" }),
    );
  });
}

eventRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/events",
    tags: ["events"],
    summary: "Live Docker events of every host in your organization (SSE)",
    request: { query: EventsQuery },
    responses: { ...sseResponse },
  }),
  (c) => {
    const q = c.req.valid("query");
    return streamEvents(c, { hosts: q.host, types: q.type, actions: q.action }) as never;
  },
);

eventRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/hosts/{id}/events",
    tags: ["events"],
    summary: "Live Docker events of one host (SSE)",
    request: {
      params: z.object({
        id: z
          .string()
          .min(1)
          .max(64)
          .openapi({ param: { name: "id", in: "path" } }),
      }),
      query: EventsQuery.omit({ host: true }),
    },
    responses: { ...sseResponse },
    errors: ["notFound"],
  }),
  async (c) => {
    const host = await getHost(c.var.db, c.var.principal.organizationId, c.req.valid("param").id);
    const q = c.req.valid("query");
    return streamEvents(c, { hosts: [host.id], types: q.type, actions: q.action }) as never;
  },
);
