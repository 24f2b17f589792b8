import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { ApiError, unauthorized } from "../errors.ts";
import type { HostIdentity } from "../durable/host-relay.ts";
import { hostForAgentToken } from "../services/hosts.ts";

/**
 * `GET /api/v1/agent/connect`: the agent's outbound WebSocket. The Worker verifies the agent token
 * before the Durable Object is reached, then hands the upgrade to that host's HostRelay with the
 * host's identity in a header the Worker sets itself.
 */
export const agentRoutes = new Hono<AppEnv>();

agentRoutes.get("/connect", async (c) => {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError(426, "This endpoint is the agent's WebSocket: connect with `Upgrade: websocket` (run `npm run agent`).");
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
  if (!match) throw unauthorized("Send the agent token as `Authorization: Bearer <token>`.");
  const host = await hostForAgentToken(c.var.db, match[1]!);
  const identity: HostIdentity = { id: host.id, organizationId: host.organizationId, name: host.name };
  const headers = new Headers({ upgrade: "websocket", "x-pier-host": JSON.stringify(identity) });
  return c.env.HOST_RELAY.getByName(host.id).fetch(new Request(c.req.url, { headers }));
});
