import { z } from "@hono/zod-openapi";
import { TASK_STATUSES } from "../db/schema.ts";
import { PageQuery } from "../lib/pagination.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { cancelHostTask } from "../services/host-tasks.ts";
import { requireRole } from "../services/principal.ts";
import * as tasks from "../services/tasks.ts";
import { authedRoute, createRouter, IdParam, jsonResponse, PageMeta, validationErrors } from "./openapi.ts";

export const taskRoutes = createRouter();
taskRoutes.use("*", requireAuth());

export const TaskView = z
  .object({
    id: z.string(),
    kind: z.string().openapi({ description: "deployment, image.pull, container.bulk, container.create (a create that pulls first), …" }),
    status: z.enum(TASK_STATUSES),
    progress: z.number().int().min(0).max(100),
    message: z.string().nullable(),
    result: z.record(z.string(), z.unknown()).nullable().openapi({
      description:
        "What it produced: a pulled image's `{image, id, status}`, a bulk action's `{action, items: [{id, ok, changed?, error?}]}`, a container create's container `{id, name, warnings, started}`.",
    }),
    target_type: z.string().nullable(),
    target_id: z.string().nullable(),
    created_by: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
  })
  .openapi("Task");

/** What an endpoint that starts a task answers (202). */
export const TaskStarted = z.object({ task_id: z.string(), task: TaskView }).openapi("TaskStarted");

/** The 202 body of an endpoint that started `t`. */
export const toTaskStarted = (t: tasks.TaskRow): z.infer<typeof TaskStarted> => ({ task_id: t.id, task: toTaskView(t) });

export const toTaskView = (t: tasks.TaskRow): z.infer<typeof TaskView> => ({
  id: t.id,
  kind: t.kind,
  status: t.status,
  progress: t.progress,
  message: t.message,
  result: t.result ?? null,
  target_type: t.targetType,
  target_id: t.targetId,
  created_by: t.createdBy,
  created_at: t.createdAt,
  updated_at: t.updatedAt,
  started_at: t.startedAt,
  finished_at: t.finishedAt,
});

taskRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["tasks"],
    summary: "Long operations of your organization (deployments, image pulls, bulk container actions), newest first",
    request: {
      query: PageQuery.extend({
        status: z.enum(TASK_STATUSES).optional(),
        kind: z.string().max(64).optional(),
        target_type: z.string().max(64).optional(),
        target_id: z.string().max(64).optional(),
      }),
    },
    responses: {
      200: jsonResponse(PageMeta.extend({ tasks: z.array(TaskView) }), "A page of tasks."),
      400: validationErrors[400],
      422: validationErrors[422],
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const page = await tasks.listTasks(
      c.var.db,
      c.var.principal,
      { status: q.status, kind: q.kind, targetType: q.target_type, targetId: q.target_id },
      q,
    );
    return c.json({ tasks: page.items.map(toTaskView), next_cursor: page.nextCursor }, 200);
  },
);

taskRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}",
    tags: ["tasks"],
    summary: "One task: status, progress (0–100), message and timestamps",
    request: { params: IdParam("id", "tsk_0123456789abcdefghij") },
    responses: { 200: jsonResponse(TaskView, "The task.") },
    errors: ["notFound"],
  }),
  async (c) => c.json(toTaskView(await tasks.getVisibleTask(c.var.db, c.var.principal, c.req.valid("param").id)), 200),
);

taskRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{id}/cancel",
    tags: ["tasks"],
    summary: "Cancel a running image pull or bulk action (member+); deployments are cancelled as deployments",
    request: { params: IdParam("id", "tsk_0123456789abcdefghij") },
    responses: {
      200: jsonResponse(TaskView, "The task, cancelled or on its way to it."),
    },
    errors: ["notFound", "conflict"],
  }),
  async (c) => {
    requireRole(c.var.principal, "member", "cancel tasks");
    return c.json(toTaskView(await cancelHostTask(c.var.db, c.env, authedActor(c), c.req.valid("param").id)), 200);
  },
);
