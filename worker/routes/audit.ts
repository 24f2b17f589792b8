import { z } from "@hono/zod-openapi";
import { requireAuth } from "../middleware/auth.ts";
import { PageQuery } from "../lib/pagination.ts";
import { listAuditEvents } from "../services/audit.ts";
import { requireRole } from "../services/principal.ts";
import { authedRoute, createRouter, jsonResponse, PageMeta, validationErrors } from "./openapi.ts";

export const auditRoutes = createRouter();
auditRoutes.use("*", requireAuth());

const AuditEventView = z
  .object({
    id: z.string(),
    actor_type: z.string(),
    actor_id: z.string().nullable(),
    action: z.string(),
    target_type: z.string().nullable(),
    target_id: z.string().nullable(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    created_at: z.string(),
  })
  .openapi("AuditEvent");

auditRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["audit"],
    summary: "Audit events of your organization, newest first (owner/admin)",
    request: { query: PageQuery },
    responses: {
      200: jsonResponse(PageMeta.extend({ audit_events: z.array(AuditEventView) }), "A page of events."),
      400: validationErrors[400],
      422: validationErrors[422],
    },
  }),
  async (c) => {
    const p = c.var.principal;
    requireRole(p, "admin", "read the audit log");
    const page = await listAuditEvents(c.var.db, p.organizationId, c.req.valid("query"));
    return c.json(
      {
        audit_events: page.items.map((e) => ({
          id: e.id,
          actor_type: e.actorType,
          actor_id: e.actorId,
          action: e.action,
          target_type: e.targetType,
          target_id: e.targetId,
          ip: e.ip,
          user_agent: e.userAgent,
          metadata: e.metadata,
          created_at: e.createdAt,
        })),
        next_cursor: page.nextCursor,
      },
      200,
    );
  },
);
