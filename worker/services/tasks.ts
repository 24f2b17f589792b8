import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { tasks, type TaskStatus } from "../db/schema.ts";
import { notFound } from "../errors.ts";
import { newId } from "../lib/ids.ts";
import { newestFirstPage, type PageQuery } from "../lib/pagination.ts";
import { nowIso } from "../lib/time.ts";
import type { Viewer } from "./principal.ts";
import { targetInScope } from "./project-lookup.ts";

export type TaskRow = typeof tasks.$inferSelect;
export type { TaskStatus };

const FINISHED: ReadonlySet<TaskStatus> = new Set(["succeeded", "failed", "cancelled"]);
export const isFinished = (status: TaskStatus): boolean => FINISHED.has(status);

export interface NewTask {
  organizationId: string;
  kind: string;
  targetType?: string;
  targetId?: string;
  message?: string;
  createdBy?: string | null;
}

/** A queued task (progress 0); the operation that starts it answers with its id. */
export async function createTask(db: Database, input: NewTask): Promise<TaskRow> {
  const now = nowIso();
  const row: TaskRow = {
    id: newId("tsk"),
    organizationId: input.organizationId,
    kind: input.kind,
    status: "queued",
    progress: 0,
    message: input.message ?? null,
    result: null,
    targetType: input.targetType ?? null,
    targetId: input.targetId ?? null,
    createdBy: input.createdBy ?? null,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    finishedAt: null,
  };
  await db.insert(tasks).values(row);
  return row;
}

export interface TaskPatch {
  status?: TaskStatus;
  progress?: number;
  message?: string;
  result?: Record<string, unknown>;
}

/**
 * Moves a task along. `started_at` is set the first time it leaves `queued`, `finished_at` when
 * it reaches a final status (and progress becomes 100 on success). Progress is clamped to 0–100.
 */
export async function updateTask(db: Database, taskId: string, patch: TaskPatch): Promise<void> {
  const updated = await taskUpdate(db, taskId, patch).returning({ id: tasks.id });
  if (updated.length === 0) throw notFound(`Task ${taskId}`);
}

/**
 * The statement `updateTask` runs, for a batch whose other writes must land with it: a deployment
 * that ended and its task, so no reader ever sees one finished and the other still running.
 */
export function taskUpdate(db: Database, taskId: string, patch: TaskPatch) {
  const now = nowIso();
  const set: Partial<TaskRow> = { updatedAt: now };
  if (patch.message !== undefined) set.message = patch.message;
  if (patch.result !== undefined) set.result = patch.result;
  if (patch.progress !== undefined) set.progress = Math.max(0, Math.min(100, Math.round(patch.progress)));
  if (patch.status !== undefined) {
    set.status = patch.status;
    if (patch.status === "succeeded" && patch.progress === undefined) set.progress = 100;
  }
  // One statement: started_at/finished_at are computed from the row as the update applies, so
  // two concurrent updates never lose or move them.
  const values: Record<string, unknown> = { ...set };
  if (patch.status !== undefined && patch.status !== "queued") values.startedAt = sql`coalesce(${tasks.startedAt}, ${now})`;
  if (patch.status !== undefined) values.finishedAt = isFinished(patch.status) ? sql`coalesce(${tasks.finishedAt}, ${now})` : null;
  return db
    .update(tasks)
    .set(values as Partial<TaskRow>)
    .where(eq(tasks.id, taskId));
}

/** A task of the organization; another organization's task is "not found". */
export async function getTask(db: Database, organizationId: string, taskId: string): Promise<TaskRow> {
  const [row] = await db
    .select()
    .from(tasks)
    .where(and(eq(tasks.organizationId, organizationId), eq(tasks.id, taskId)))
    .limit(1);
  if (!row) throw notFound(`Task ${taskId}`);
  return row;
}

/** Whose tasks a request sees: its organization's, narrowed for a project-scoped member. */
type TaskViewer = Viewer & { userId?: string };

const visible = (db: Database, viewer: TaskViewer) =>
  and(
    eq(tasks.organizationId, viewer.organizationId),
    targetInScope(db, { type: tasks.targetType, id: tasks.targetId, createdBy: tasks.createdBy }, viewer),
  );

/** A task `viewer` may see; another organization's, or one about a project out of scope, is "not found". */
export async function getVisibleTask(db: Database, viewer: TaskViewer, taskId: string): Promise<TaskRow> {
  const [row] = await db
    .select()
    .from(tasks)
    .where(and(visible(db, viewer), eq(tasks.id, taskId)))
    .limit(1);
  if (!row) throw notFound(`Task ${taskId}`);
  return row;
}

/** How many of the tasks `viewer` sees are in each status. */
export async function taskCounts(db: Database, viewer: TaskViewer): Promise<Record<TaskStatus, number>> {
  const rows = await db
    .select({ status: tasks.status, n: sql<number>`count(*)` })
    .from(tasks)
    .where(visible(db, viewer))
    .groupBy(tasks.status);
  const counts: Record<TaskStatus, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
  for (const r of rows) counts[r.status] = Number(r.n);
  return counts;
}

export interface TaskFilter {
  status?: TaskStatus;
  kind?: string;
  targetType?: string;
  targetId?: string;
}

export async function listTasks(db: Database, viewer: TaskViewer, filter: TaskFilter, page: PageQuery) {
  return newestFirstPage(
    db.select().from(tasks).$dynamic(),
    tasks,
    page,
    visible(db, viewer),
    filter.status ? eq(tasks.status, filter.status) : undefined,
    filter.kind ? eq(tasks.kind, filter.kind) : undefined,
    filter.targetType ? eq(tasks.targetType, filter.targetType) : undefined,
    filter.targetId ? eq(tasks.targetId, filter.targetId) : undefined,
  );
}
