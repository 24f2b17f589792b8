import { z } from "@hono/zod-openapi";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import {
  createRegistry,
  deleteRegistry,
  getRegistry,
  listRegistries,
  RegistryCreate,
  RegistryPatch,
  toRegistryView,
  updateRegistry,
} from "../services/registries.ts";
import { authedRoute, createRouter, IdParam, jsonBody, jsonResponse } from "./openapi.ts";

// The organization's registry credentials (`docker login`, once for every host): checked against
// the registry's /v2/ from a host before they are saved, sealed at rest, masked in every answer,
// and used by pulls, pushes and deployments from that registry. Viewers read; admins manage.
export const registryRoutes = createRouter();
registryRoutes.use("*", requireAuth());

const RegistryView = z
  .object({
    id: z.string(),
    server: z.string().openapi({ description: "host[:port]; Docker Hub is docker.io.", example: "ghcr.io" }),
    username: z.string(),
    password: z.string().openapi({ description: "A mask (`…a1b2`): the secret is never answered.", example: "…a1b2" }),
    verified_at: z.string(),
    verified_from_host_id: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Registry");

const RegistryId = IdParam("id", "reg_0123456789abcdefghij");
const CHECK =
  "The credentials are checked from a host of the organization (`verify_host_id`, else one that is online) by its Docker engine against the registry's /v2/, as `docker login` does: a refusal is a 422 in the registry's words, no online host a 409.";

registryRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["registries"],
    summary: "The organization's registry credentials, secrets masked",
    responses: { 200: jsonResponse(z.object({ registries: z.array(RegistryView) }), "The registries.") },
  }),
  async (c) => c.json({ registries: (await listRegistries(c.var.db, c.var.principal)).map(toRegistryView) }, 200),
);

registryRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/",
    tags: ["registries"],
    summary: "Save credentials for a registry, after checking them (admin+)",
    description: CHECK,
    request: { body: jsonBody(RegistryCreate.openapi("RegistryCreate")) },
    responses: {
      201: jsonResponse(RegistryView, "Saved."),
    },
    errors: ["validation", "notFound", "conflict", "relay"],
  }),
  async (c) => c.json(toRegistryView(await createRegistry(c.var.db, c.env, authedActor(c), c.req.valid("json"))), 201),
);

registryRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}",
    tags: ["registries"],
    summary: "One registry's credentials, secret masked",
    request: { params: RegistryId },
    responses: { 200: jsonResponse(RegistryView, "The registry.") },
    errors: ["notFound"],
  }),
  async (c) => c.json(toRegistryView(await getRegistry(c.var.db, c.var.principal, c.req.valid("param").id)), 200),
);

registryRoutes.openapi(
  authedRoute({
    method: "patch",
    path: "/{id}",
    tags: ["registries"],
    summary: "Change the username or secret, checked again before they replace the old ones (admin+)",
    description: CHECK,
    request: { params: RegistryId, body: jsonBody(RegistryPatch.openapi("RegistryPatch")) },
    responses: {
      200: jsonResponse(RegistryView, "Saved."),
    },
    errors: ["validation", "notFound", "conflict", "relay"],
  }),
  async (c) =>
    c.json(toRegistryView(await updateRegistry(c.var.db, c.env, authedActor(c), c.req.valid("param").id, c.req.valid("json"))), 200),
);

registryRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{id}",
    tags: ["registries"],
    summary: "Forget a registry's credentials (admin+)",
    request: { params: RegistryId },
    responses: { 204: { description: "Forgotten." } },
    errors: ["notFound"],
  }),
  async (c) => {
    await deleteRegistry(c.var.db, authedActor(c), c.req.valid("param").id);
    return c.body(null, 204);
  },
);
