import { createRoute, z } from "@hono/zod-openapi";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import * as setup from "../services/setup.ts";
import { authSettings } from "../settings.ts";
import { HostView, toHostView } from "./hosts.ts";
import { authedRoute, createRouter, jsonResponse, problem } from "./openapi.ts";

export const setupRoutes = createRouter();

const SetupView = z
  .object({
    needs_owner: z.boolean().openapi({ description: "No user exists yet: the first to register (POST /api/v1/auth/register) owns Pier." }),
    registration_open: z.boolean().openapi({ description: "POST /api/v1/auth/register is accepted now." }),
    local_host: z.object({
      available: z
        .boolean()
        .openapi({ description: "Running under `npm start`, which can attach this machine (POST /api/v1/setup/local-host)." }),
      host_id: z.string().nullable().openapi({ description: "The host npm start runs the local agent for, once attached." }),
    }),
  })
  .openapi("Setup");

setupRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["setup"],
    summary: "What the first run needs: whether an owner exists, whether registration is open, whether this machine can be attached",
    responses: { 200: jsonResponse(SetupView, "The installation's setup state.") },
  }),
  async (c) => {
    const state = await setup.setupState(c.var.db, c.env, authSettings(c.env).openRegistration);
    return c.json(
      {
        needs_owner: state.needsOwner,
        registration_open: state.registrationOpen,
        local_host: { available: state.localHost.available, host_id: state.localHost.hostId },
      },
      200,
    );
  },
);

setupRoutes.use("/local-host", requireAuth());
setupRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/local-host",
    tags: ["setup"],
    summary: "Under `npm start`: register this machine as a host and have npm start run and supervise its agent (owner/admin)",
    description:
      "The host is named after this machine. npm start runs the bundled agent against the local Docker engine, restarts it if it dies and starts it again with npm start. Elsewhere (a deployed Worker) this answers 404.",
    responses: {
      201: jsonResponse(z.object({ host: HostView }).openapi("LocalHost"), "The new host; its agent is starting."),
      404: problem("Not running under npm start."),
      502: problem("npm start's local agent control did not answer."),
    },
    errors: ["conflict"],
  }),
  async (c) => {
    const row = await setup.attachLocalHost(c.var.db, c.env, authedActor(c));
    return c.json({ host: toHostView(row) }, 201);
  },
);
