import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import * as domains from "../services/domains.ts";
import { DomainBody, DomainView, toDomainView } from "./app-schemas.ts";
import { authedRoute, createRouter, IdParam, jsonBody, jsonResponse } from "./openapi.ts";

/** Domains by id; they are listed and added under their application (/api/v1/applications/:id/domains). */
export const domainRoutes = createRouter();
domainRoutes.use("*", requireAuth());

const DomainId = IdParam("id", "dom_0123456789abcdefghij");

domainRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}",
    tags: ["domains"],
    summary: "A domain",
    request: { params: DomainId },
    responses: { 200: jsonResponse(DomainView, "The domain.") },
    errors: ["notFound"],
  }),
  async (c) => c.json(toDomainView(await domains.getDomain(c.var.db, c.var.principal, c.req.valid("param").id)), 200),
);

domainRoutes.openapi(
  authedRoute({
    method: "patch",
    path: "/{id}",
    tags: ["domains"],
    summary: "Change a domain; applies at the next deployment (member+)",
    request: { params: DomainId, body: jsonBody(DomainBody.partial()) },
    responses: { 200: jsonResponse(DomainView, "The domain.") },
    errors: ["validation", "notFound", "conflict"],
  }),
  async (c) =>
    c.json(toDomainView(await domains.updateDomain(c.var.db, authedActor(c), c.req.valid("param").id, c.req.valid("json"))), 200),
);

domainRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{id}",
    tags: ["domains"],
    summary: "Detach a domain; its labels go at the next deployment (member+)",
    request: { params: DomainId },
    responses: { 204: { description: "Removed." } },
    errors: ["notFound"],
  }),
  async (c) => {
    await domains.deleteDomain(c.var.db, authedActor(c), c.req.valid("param").id);
    return c.body(null, 204);
  },
);
