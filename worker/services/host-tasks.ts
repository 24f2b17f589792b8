import { z } from "@hono/zod-openapi";
import {
  type ComposePullArgs,
  type ComposeUpArgs,
  type ContainerCreateArgs,
  ContainerRef,
  ImagePullArgs,
  type ImagePruneArgs,
  type ImagePushArgs,
  type SystemPruneArgs,
} from "#protocol";
import { classic } from "../lib/protocol-schema.ts";
import type { Database } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import { ApiError } from "../errors.ts";
import { recordAudit } from "./audit.ts";
import { registryAuthFor } from "./registries.ts";
import type { Actor, Principal } from "./principal.ts";
import { createTask, getTask, getVisibleTask, isFinished, updateTask, type TaskRow } from "./tasks.ts";
import { errorText } from "../db/errors.ts";

// Long operations on one host that are not deployments: an image pull, an action on many
// containers. Each is a task (followed at /api/v1/tasks/:id) run by its own TaskRunner object.

export const BULK_ACTIONS = ["start", "stop", "restart", "kill", "pause", "unpause", "remove"] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

export const BulkRequest = z
  .object({
    action: z.enum(BULK_ACTIONS),
    ids: z
      .array(classic(ContainerRef))
      .min(1)
      .max(100)
      .refine((ids) => new Set(ids).size === ids.length, "ids must not repeat"),
    /** stop/restart: seconds Docker waits before it kills. */
    timeout: z.number().int().min(0).max(3600).optional(),
    /** kill: the signal. */
    signal: z
      .string()
      .regex(/^[A-Z0-9+-]+$/i)
      .optional(),
    /** remove: also running containers, and their anonymous volumes. */
    force: z.boolean().optional(),
    volumes: z.boolean().optional(),
  })
  .openapi("BulkContainerAction");
export type BulkRequest = z.infer<typeof BulkRequest>;

export const PullRequest = classic(ImagePullArgs).openapi("ImagePullRequest");

/** A pull or a bulk action gets this long before its runner fails it. */
export const TASK_TIMEOUT_MS = 30 * 60_000;

/** What a host task does: its kind and its arguments. */
export type HostTaskRequest =
  | { kind: "image.pull"; args: z.infer<typeof ImagePullArgs> }
  /** Pull the image, then create (and start) the container: a create whose image must be pulled. */
  | { kind: "container.create"; args: z.infer<typeof ContainerCreateArgs> }
  | { kind: "container.bulk"; args: BulkRequest }
  | { kind: "system.prune"; args: z.infer<typeof SystemPruneArgs> }
  | { kind: "compose.up"; args: z.infer<typeof ComposeUpArgs> }
  | { kind: "compose.pull"; args: z.infer<typeof ComposePullArgs> }
  | { kind: "image.push"; args: z.infer<typeof ImagePushArgs> }
  | { kind: "image.prune"; args: z.infer<typeof ImagePruneArgs> };

export type HostTaskSpec = { taskId: string; organizationId: string; hostId: string; timeoutMs: number } & HostTaskRequest;

/** The task's first message and the audit event's details (never credentials). */
function describeTask(request: HostTaskRequest, hostName: string): { message: string; detail: Record<string, unknown> } {
  switch (request.kind) {
    case "image.pull":
      return { message: `Pull ${request.args.image} on ${hostName}`, detail: { image: request.args.image } };
    case "container.create":
      return {
        message: `Pull ${request.args.image} on ${hostName}, then create ${request.args.name ?? "the container"}`,
        detail: { image: request.args.image, name: request.args.name ?? null, pull_policy: request.args.pull_policy ?? "missing" },
      };
    case "container.bulk":
      return {
        message: `${request.args.action} ${request.args.ids.length} container(s) on ${hostName}`,
        detail: { action: request.args.action, ids: request.args.ids },
      };
    case "image.push":
      return {
        message: `Push ${request.args.image} from ${hostName}`,
        detail: { image: request.args.image, authenticated: request.args.auth !== undefined },
      };
    case "image.prune": {
      const { all = false, until, label } = request.args;
      return {
        message: `Prune ${all ? "unused" : "dangling"} images on ${hostName}`,
        detail: { all, until: until ?? null, label: label ?? [] },
      };
    }
    case "system.prune": {
      const { all = false, volumes = false, until, label } = request.args;
      const what = `containers, networks, ${all ? "unused" : "dangling"} images, build cache${volumes ? " and volumes" : ""}`;
      return { message: `Prune ${what} on ${hostName}`, detail: { all, volumes, until: until ?? null, label: label ?? [] } };
    }
    case "compose.up":
    case "compose.pull": {
      const { project, directory, services } = request.args;
      const verb = request.kind === "compose.up" ? "Start" : "Pull";
      return {
        message: `${verb} Compose project ${project} on ${hostName}`,
        // The file's text may hold secrets: the audit names where it came from, not what it says.
        detail: { project, source: directory ?? (request.args.content !== undefined ? "content" : "kept"), services: services ?? [] },
      };
    }
  }
}

/** Records the task and starts it on its runner; the caller answers 202 with it. */
export async function startHostTask(
  db: Database,
  env: Bindings,
  actor: Actor & { principal: Principal },
  host: { id: string; name: string; state: string },
  request: HostTaskRequest,
): Promise<TaskRow> {
  const { principal } = actor;
  // Said now rather than by a task that fails a moment later.
  if (host.state !== "online")
    throw new ApiError(503, `Host ${host.name} is ${host.state.replace("_", " ")}: its agent is not connected. Start the agent and retry.`);
  // A pull or push without credentials uses the organization's saved ones for that registry.
  if ((request.kind === "image.pull" || request.kind === "image.push") && !request.args.auth) {
    const auth = await registryAuthFor(db, env, principal.organizationId, request.args.image);
    if (auth) request = { ...request, args: { ...request.args, auth } } as HostTaskRequest;
  }
  const { message, detail } = describeTask(request, host.name);
  const task = await createTask(db, {
    organizationId: principal.organizationId,
    kind: request.kind,
    targetType: "host",
    targetId: host.id,
    message,
    createdBy: principal.userId,
  });
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: request.kind,
    targetType: "host",
    targetId: host.id,
    metadata: { ...detail, task_id: task.id },
  });
  try {
    await env.TASK_RUNNER.getByName(task.id).start({
      ...request,
      taskId: task.id,
      organizationId: principal.organizationId,
      hostId: host.id,
      timeoutMs: TASK_TIMEOUT_MS,
    } as HostTaskSpec);
  } catch (error) {
    await updateTask(db, task.id, { status: "failed", message: `Could not start the task: ${errorText(error)}` });
    throw new ApiError(503, "The task could not be started; retry.");
  }
  return task;
}

/** Cancels a running pull or bulk action. Deployments are cancelled as deployments. */
export async function cancelHostTask(
  db: Database,
  env: Bindings,
  actor: Actor & { principal: Principal },
  taskId: string,
): Promise<TaskRow> {
  const { principal } = actor;
  const task = await getVisibleTask(db, principal, taskId);
  if (task.kind === "deployment")
    throw new ApiError(409, `Task ${taskId} is a deployment: cancel it with POST /api/v1/deployments/${task.targetId}/cancel.`);
  if (isFinished(task.status)) throw new ApiError(409, `Task ${taskId} already ended (${task.status}).`);
  const who = `by ${principal.username}`;
  const running = await env.TASK_RUNNER.getByName(task.id).cancel(`cancelled ${who}`);
  // Nothing runs it any more (it never started, or its runner is gone): it ends here.
  if (!running) await updateTask(db, task.id, { status: "cancelled", message: `Cancelled ${who}.` });
  await recordAudit(db, actor, { organizationId: principal.organizationId, action: "task.cancel", targetType: "task", targetId: task.id });
  return getTask(db, principal.organizationId, taskId);
}
