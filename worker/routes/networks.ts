import { z } from "@hono/zod-openapi";
import { NetworkConnectArgs, NetworkCreateArgs, NetworkDisconnectArgs, NetworkRef } from "#protocol";
import { classic } from "../lib/protocol-schema.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import {
  connectNetwork,
  createNetwork,
  disconnectNetwork,
  inspectNetwork,
  listNetworks,
  pruneNetworks,
  removeNetwork,
} from "../services/networks.ts";
import { createRouter, HostParam, hostRoute, jsonBody, jsonResponse, queryBool } from "./openapi.ts";
import { labelQuery, PruneBody } from "./volumes.ts";

// Networks on a host (`docker network`): list, inspect, create with IPAM, remove, connect and
// disconnect containers, prune. Viewers read; members change.
export const networkRoutes = createRouter();
networkRoutes.use("*", requireAuth());

const NetworkView = z
  .object({
    id: z.string(),
    short_id: z.string(),
    name: z.string(),
    driver: z.string(),
    scope: z.string(),
    created_at: z.string().nullable(),
    internal: z.boolean(),
    attachable: z.boolean(),
    ipv6: z.boolean(),
    subnets: z.array(z.object({ subnet: z.string().nullable(), gateway: z.string().nullable(), ip_range: z.string().nullable() })),
    options: z.record(z.string(), z.string()),
    labels: z.record(z.string(), z.string()),
    managed: z.boolean().openapi({ description: "Created through Pier (label dev.pier.managed=true)." }),
    predefined: z.boolean().openapi({ description: "Docker's own bridge, host or none, which cannot be removed." }),
    containers: z
      .array(
        z.object({
          id: z.string(),
          name: z.string(),
          ipv4_address: z.string().nullable(),
          ipv6_address: z.string().nullable(),
          mac_address: z.string().nullable(),
        }),
      )
      .openapi({ description: "Connected containers (filled in on the single network; the list leaves it empty)." }),
  })
  .openapi("Network");

const NetworkParam = HostParam.extend({
  network: classic(NetworkRef).openapi({ param: { name: "network", in: "path" }, example: "app-net" }),
});

networkRoutes.openapi(
  hostRoute({
    method: "get",
    path: "/{hostId}/networks",
    tags: ["networks"],
    summary: "Networks on a host",
    request: {
      params: HostParam,
      query: z.object({ label: labelQuery.optional(), driver: z.string().max(255).optional(), dangling: queryBool.optional() }),
    },
    responses: {
      200: jsonResponse(z.object({ networks: z.array(NetworkView) }), "The networks."),
    },
  }),
  async (c) => {
    const { hostId } = c.req.valid("param");
    return c.json({ networks: await listNetworks(c.var.db, c.env, c.var.principal, hostId, c.req.valid("query")) }, 200);
  },
);

networkRoutes.openapi(
  hostRoute({
    method: "post",
    path: "/{hostId}/networks",
    tags: ["networks"],
    summary: "Create a network: driver, subnet, gateway, IP range, internal, labels (member+); 409 when the name is taken",
    request: { params: HostParam, body: jsonBody(classic(NetworkCreateArgs).openapi("NetworkCreate")) },
    conflict: true,
    responses: {
      201: jsonResponse(z.object({ id: z.string(), name: z.string(), warning: z.string() }), "The network."),
    },
  }),
  async (c) => c.json(await createNetwork(c.var.db, c.env, authedActor(c), c.req.valid("param").hostId, c.req.valid("json")), 201),
);

networkRoutes.openapi(
  hostRoute({
    method: "post",
    path: "/{hostId}/networks/prune",
    tags: ["networks"],
    summary: "Remove every network no container uses, optionally only those with a label (member+)",
    request: { params: HostParam, body: { required: false, content: { "application/json": { schema: PruneBody } } } },
    conflict: true,
    responses: {
      200: jsonResponse(z.object({ deleted: z.array(z.string()) }), "The networks removed."),
    },
  }),
  async (c) => {
    const body = (c.req.valid("json") as z.infer<typeof PruneBody> | undefined) ?? {};
    return c.json(await pruneNetworks(c.var.db, c.env, authedActor(c), c.req.valid("param").hostId, body), 200);
  },
);

networkRoutes.openapi(
  hostRoute({
    method: "get",
    path: "/{hostId}/networks/{network}",
    tags: ["networks"],
    summary: "One network, with its connected containers",
    request: { params: NetworkParam },
    responses: {
      200: jsonResponse(NetworkView, "The network."),
    },
  }),
  async (c) => {
    const { hostId, network } = c.req.valid("param");
    return c.json(await inspectNetwork(c.var.db, c.env, c.var.principal, hostId, network), 200);
  },
);

networkRoutes.openapi(
  hostRoute({
    method: "delete",
    path: "/{hostId}/networks/{network}",
    tags: ["networks"],
    summary: "Remove a network (member+); 409 with the engine's message while containers are connected, or for bridge/host/none",
    request: { params: NetworkParam },
    conflict: true,
    responses: {
      200: jsonResponse(z.object({ id: z.string(), removed: z.literal(true) }), "Removed."),
    },
  }),
  async (c) => {
    const { hostId, network } = c.req.valid("param");
    return c.json(await removeNetwork(c.var.db, c.env, authedActor(c), hostId, network), 200);
  },
);

const ConnectBody = classic(NetworkConnectArgs).omit({ id: true }).openapi("NetworkConnect");
const DisconnectBody = classic(NetworkDisconnectArgs).omit({ id: true }).openapi("NetworkDisconnect");

networkRoutes.openapi(
  hostRoute({
    method: "post",
    path: "/{hostId}/networks/{network}/connect",
    tags: ["networks"],
    summary: "Connect a container, with DNS aliases and a static IPv4 address if asked (member+)",
    request: { params: NetworkParam, body: jsonBody(ConnectBody) },
    conflict: true,
    responses: {
      200: jsonResponse(z.object({ id: z.string(), container: z.string(), connected: z.literal(true) }), "Connected."),
    },
  }),
  async (c) => {
    const { hostId, network } = c.req.valid("param");
    return c.json(await connectNetwork(c.var.db, c.env, authedActor(c), hostId, { ...c.req.valid("json"), id: network }), 200);
  },
);

networkRoutes.openapi(
  hostRoute({
    method: "post",
    path: "/{hostId}/networks/{network}/disconnect",
    tags: ["networks"],
    summary: "Disconnect a container (member+)",
    request: { params: NetworkParam, body: jsonBody(DisconnectBody) },
    conflict: true,
    responses: {
      200: jsonResponse(z.object({ id: z.string(), container: z.string(), disconnected: z.literal(true) }), "Disconnected."),
    },
  }),
  async (c) => {
    const { hostId, network } = c.req.valid("param");
    return c.json(await disconnectNetwork(c.var.db, c.env, authedActor(c), hostId, { ...c.req.valid("json"), id: network }), 200);
  },
);
