import { z } from "@hono/zod-openapi";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import {
  createDestination,
  DEFAULT_DESTINATION,
  defaultDestinationView,
  DestinationCreate,
  DestinationPatch,
  deleteDestination,
  getDestination,
  listDestinations,
  toDestinationView,
  updateDestination,
} from "../services/backup-destinations.ts";
import { authedRoute, createRouter, IdParam, jsonBody, jsonResponse } from "./openapi.ts";

// Where backups go: the Worker's R2 bucket (`default`) and S3-compatible stores, each checked with
// a probe object before it is saved; secrets sealed at rest and masked. Viewers read; admins manage.
export const backupDestinationRoutes = createRouter();
backupDestinationRoutes.use("*", requireAuth());

const DestinationView = z
  .object({
    id: z.string().openapi({ description: "`default` for the Worker's R2 bucket.", example: "bkd_0123456789abcdefghij" }),
    name: z.string(),
    kind: z.enum(["r2", "s3"]),
    default: z.boolean().openapi({ description: "The destination backups go to when none is named." }),
    endpoint: z.string().nullable(),
    bucket: z.string().nullable(),
    region: z.string().nullable(),
    access_key_id: z.string().nullable(),
    secret_access_key: z.string().nullable().openapi({ description: "A mask (`…a1b2`): the secret is never answered.", example: "…a1b2" }),
    prefix: z.string().openapi({ description: "Keys start with `<prefix>/pier/<organization id>/`." }),
    force_path_style: z.boolean().nullable(),
    encrypt: z.boolean().openapi({ description: "Artifacts are encrypted with the organization's key by default." }),
    verified_at: z.string().nullable(),
    created_at: z.string().nullable(),
    updated_at: z.string().nullable(),
  })
  .openapi("BackupDestination");

const DestinationId = IdParam("id", "bkd_0123456789abcdefghij");
const CHECK =
  "The settings are checked from the Worker before they are saved: a probe object is written under the prefix, read back and deleted. A refusal is a 422 in the store's words.";

backupDestinationRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["backups"],
    summary: "The organization's backup destinations (the R2 bucket first), secrets masked",
    responses: { 200: jsonResponse(z.object({ destinations: z.array(DestinationView) }), "The destinations.") },
  }),
  async (c) =>
    c.json(
      { destinations: [defaultDestinationView(), ...(await listDestinations(c.var.db, c.var.principal)).map(toDestinationView)] },
      200,
    ),
);

backupDestinationRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/",
    tags: ["backups"],
    summary: "Add an S3-compatible destination, after checking it (admin_access)",
    description: CHECK,
    request: { body: jsonBody(DestinationCreate.openapi("BackupDestinationCreate")) },
    responses: { 201: jsonResponse(DestinationView, "Saved.") },
    errors: ["validation", "conflict"],
  }),
  async (c) => c.json(toDestinationView(await createDestination(c.var.db, c.env, authedActor(c), c.req.valid("json"))), 201),
);

backupDestinationRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}",
    tags: ["backups"],
    summary: "One destination, secret masked",
    request: { params: DestinationId },
    responses: { 200: jsonResponse(DestinationView, "The destination.") },
    errors: ["notFound"],
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    if (id === DEFAULT_DESTINATION) return c.json(defaultDestinationView(), 200);
    return c.json(toDestinationView(await getDestination(c.var.db, c.var.principal.organizationId, id)), 200);
  },
);

backupDestinationRoutes.openapi(
  authedRoute({
    method: "patch",
    path: "/{id}",
    tags: ["backups"],
    summary: "Change a destination; changed settings are checked again (admin_access)",
    description: CHECK,
    request: { params: DestinationId, body: jsonBody(DestinationPatch.openapi("BackupDestinationPatch")) },
    responses: { 200: jsonResponse(DestinationView, "Saved.") },
    errors: ["validation", "notFound", "conflict"],
  }),
  async (c) =>
    c.json(toDestinationView(await updateDestination(c.var.db, c.env, authedActor(c), c.req.valid("param").id, c.req.valid("json"))), 200),
);

backupDestinationRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{id}",
    tags: ["backups"],
    summary: "Remove a destination that holds no recorded backups (admin_access)",
    request: { params: DestinationId },
    responses: { 204: { description: "Removed." } },
    errors: ["notFound", "conflict"],
  }),
  async (c) => {
    await deleteDestination(c.var.db, authedActor(c), c.req.valid("param").id);
    return c.body(null, 204);
  },
);
