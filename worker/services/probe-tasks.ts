// Probe tasks (seed 004's `/api/test/simple` and `/api/test/error`, which test its Celery workers):
// a task that really goes through the task runner (a TaskRunner Durable Object, as host tasks do)
// and succeeds, or fails on purpose, so a client can see the whole path work: enqueue → running →
// progress → a final status it reads back at /api/tasks/<id>/status.
import type { Database } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import { recordAudit } from "./audit.ts";
import { type Actor, type Principal, requireRole } from "./principal.ts";
import { createTask, type TaskPatch, type TaskRow, updateTask } from "./tasks.ts";

export const PROBE_KINDS = ["probe.succeed", "probe.fail"] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

export interface ProbeArgs {
  /** Added up by the succeeding probe, as Celery's classic `add(x, y)` test task does. */
  x?: number;
  y?: number;
  /** What the failing probe fails with. */
  message?: string;
}

export interface ProbeTaskSpec {
  kind: ProbeKind;
  taskId: string;
  organizationId: string;
  timeoutMs: number;
  args: ProbeArgs;
}

export const isProbe = (spec: { kind: string }): spec is ProbeTaskSpec => (PROBE_KINDS as readonly string[]).includes(spec.kind);

const PROBE_TIMEOUT_MS = 60_000;

export class ProbeFailure extends Error {
  override name = "ProbeFailure";
}

/** Queues a probe task and starts it in its own TaskRunner (member+). */
export async function enqueueProbe(
  db: Database,
  env: Bindings,
  actor: Actor & { principal: Principal },
  kind: ProbeKind,
  args: ProbeArgs,
): Promise<TaskRow> {
  const p = actor.principal;
  requireRole(p, "member", "run test tasks");
  const task = await createTask(db, {
    organizationId: p.organizationId,
    kind,
    message: kind === "probe.succeed" ? "Test task queued: it will succeed." : "Test task queued: it will fail on purpose.",
    createdBy: p.userId,
  });
  await recordAudit(db, actor, {
    organizationId: p.organizationId,
    action: "task.test",
    targetType: "task",
    targetId: task.id,
    metadata: { kind },
  });
  await env.TASK_RUNNER.getByName(task.id).start({
    kind,
    taskId: task.id,
    organizationId: p.organizationId,
    timeoutMs: PROBE_TIMEOUT_MS,
    args,
  });
  return task;
}

/** The probe's work, run by the TaskRunner: a progress step, then its outcome (or a thrown failure). */
export async function runProbe(db: Database, spec: ProbeTaskSpec): Promise<TaskPatch> {
  await updateTask(db, spec.taskId, { progress: 50, message: "Test task running." });
  if (spec.kind === "probe.fail") throw new ProbeFailure(spec.args.message ?? "Test error task: it raised an error on purpose.");
  const x = spec.args.x ?? 1;
  const y = spec.args.y ?? 1;
  return {
    status: "succeeded",
    progress: 100,
    message: `Test task succeeded: ${x} + ${y} = ${x + y}.`,
    result: { x, y, sum: x + y, ran_in: "TaskRunner" },
  };
}
