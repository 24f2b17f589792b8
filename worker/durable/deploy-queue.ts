import { DurableObject } from "cloudflare:workers";
import { and, asc, eq, inArray, max } from "drizzle-orm";
import type { DeployBuildResult, DeployRunResult, OpName, RelayError } from "#protocol";
import { createDatabase, type Database } from "../db/client.ts";
import { applications, deploymentLogs, deployments, domains, hosts, type DeploymentStatus } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { newId } from "../lib/ids.ts";
import { describeRelayError, openedStream, readRelayStream } from "../lib/relay.ts";
import { nowIso } from "../lib/time.ts";
import type { ApplicationRow } from "../services/applications.ts";
import { VaultReferenceError } from "../services/vault.ts";
import { deployPlan, type DeploymentRow, keptImageTags } from "../services/deployments.ts";
import { runOnHost } from "../services/host-relay.ts";
import { notify, type NotificationKind } from "../services/notifications.ts";
import { createTask, taskUpdate, updateTask } from "../services/tasks.ts";
import { keepDeploymentImages } from "../settings.ts";
import { DeployOutput, type OutputPiece, type OutputStream } from "./deploy-output.ts";
import { Subscribers } from "./subscribers.ts";
import { errorLogFields, errorText } from "../db/errors.ts";

export interface EnqueueRequest {
  organizationId: string;
  applicationId: string;
  trigger: DeploymentRow["trigger"];
  title: string;
  ref?: string | null;
  commit?: string | null;
  commitMessage?: string | null;
  /** A rollback reuses this deployment's image. */
  rollbackOf?: string | null;
  imageTag?: string | null;
  /** A push: deployments of earlier pushes still waiting are dropped, so a burst ends on the newest. */
  supersede?: boolean;
  createdBy?: string | null;
  webhookDeliveryId?: string | null;
}

export interface EnqueueResult {
  deployment: DeploymentRow;
  /** The same commit was already waiting: that deployment is returned instead of a new one. */
  coalesced: boolean;
  /** Waiting deployments of earlier pushes that this one replaced. */
  superseded: string[];
}

/** One message to a follower of a deployment's output (the Worker re-emits them as SSE). */
export type FollowMessage = { type: "logs"; logs: OutputPiece[] } | { type: "end"; status: DeploymentStatus; error: string | null };

interface Running {
  id: string;
  organizationId: string;
  applicationId: string;
  taskId: string | null;
  hostId: string | null;
  deadline: number;
  timeoutSeconds: number;
  output: DeployOutput;
  reader?: ReadableStreamDefaultReader<Uint8Array>;
  /** The relay stream of the step in progress (its id is ours, so a cancel can name it). */
  streamId?: string;
  stop?: { kind: "cancel" | "timeout"; message: string };
}

/** A step failed for a reason to show as is. */
/** A deployment task's message: the application's name, then what happened (tasks keep 500 characters). */
const taskMessage = (appName: string | undefined, what: string): string => (appName ? `${appName}: ${what}` : what).slice(0, 500);

class DeployError extends Error {
  override readonly name = "DeployError";
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const ACTIVE: DeploymentStatus[] = ["building", "deploying"];
/** While a deployment runs the alarm comes at least this often (timeouts, a lost runner). */
const WATCHDOG_MS = 60_000;
/** A deployment gets this long past its deadline for the host's abort to arrive before the alarm forces it. */
const DEADLINE_GRACE_MS = 5_000;

/** Why a relay step failed, in words for the deployment's `error`. */
/** A relay error as the reason a deployment step failed. */
function stepFailure(op: OpName, error: RelayError): string {
  const why = describeRelayError(op, error);
  return error.code === "agent_disconnected" ? `${why}; the running version was left as it was` : why;
}

/**
 * One per application (named by its id). Runs its deployments one at a time in the order they
 * were asked for: each is a `deploy.build` then a `deploy.run` streamed from the host's agent
 * through its HostRelay, with the output stored in pieces (`deployment_logs`) and fanned out to
 * followers. A commit already waiting is coalesced; a cancel drops a waiting deployment or aborts
 * the running one on the host; an alarm fails and aborts a deployment past its timeout, and picks
 * up after a restart so that no deployment stays "running" forever.
 *
 * The queue itself lives in the database (deployments in `queued`), so it survives this object;
 * what lives in memory is the one deployment being run.
 */
export class DeployQueue extends DurableObject<Bindings> {
  private running?: Running;
  private draining?: Promise<void>;
  private lock: Promise<unknown> = Promise.resolve();
  /** Followers of one deployment's output, tagged with its id. */
  private readonly followers = new Subscribers<{ deploymentId: string }>(this.ctx, "follower");

  /** Named by its application's id (getByName), so it finds its queue after any restart. */
  private get applicationId(): string | undefined {
    return this.ctx.id.name;
  }

  // ---- RPC --------------------------------------------------------------------------------

  async enqueue(request: EnqueueRequest): Promise<EnqueueResult> {
    const result = await this.exclusive(async () => {
      const db = this.db();
      const [app] = await db.select().from(applications).where(eq(applications.id, request.applicationId)).limit(1);
      if (!app) throw new Error(`Application ${request.applicationId} does not exist.`);
      const waiting = await this.queued(db, app.id);
      if (!request.rollbackOf) {
        const same = waiting.find(
          (d) =>
            !d.rollbackOf && (request.commit ? d.commitSha === request.commit : !d.commitSha && (d.ref ?? null) === (request.ref ?? null)),
        );
        if (same) return { deployment: same, coalesced: true, superseded: [] };
      }
      const superseded: string[] = [];
      if (request.supersede) {
        for (const older of waiting.filter((d) => d.trigger === "webhook" || d.trigger === "devflow")) {
          await this.finishWaiting(
            db,
            older,
            "cancelled",
            `superseded by a newer push${request.commit ? ` (${request.commit.slice(0, 12)})` : ""} before it started`,
            false,
          );
          superseded.push(older.id);
        }
      }
      const id = newId("dpl");
      const task = await createTask(db, {
        organizationId: app.organizationId,
        kind: "deployment",
        targetType: "deployment",
        targetId: id,
        // Named after the application: the task lists show the message and nothing else of it.
        message: `${app.name}: ${request.title}`,
        createdBy: request.createdBy ?? null,
      });
      const now = nowIso();
      const row: DeploymentRow = {
        id,
        organizationId: app.organizationId,
        applicationId: app.id,
        hostId: app.hostId,
        status: "queued",
        trigger: request.trigger,
        title: request.title,
        ref: request.ref ?? (app.sourceType === "git" ? app.gitBranch : null),
        commitSha: request.commit ?? null,
        commitMessage: request.commitMessage ?? null,
        imageTag: request.imageTag ?? null,
        imageId: null,
        rollbackOf: request.rollbackOf ?? null,
        taskId: task.id,
        error: null,
        containerId: null,
        webhookDeliveryId: request.webhookDeliveryId ?? null,
        timeoutSeconds: app.deployTimeoutSeconds,
        createdBy: request.createdBy ?? null,
        createdAt: now,
        updatedAt: now,
        startedAt: null,
        finishedAt: null,
      };
      await db.batch([
        db.insert(deployments).values(row),
        db.insert(deploymentLogs).values({
          deploymentId: id,
          seq: 0,
          organizationId: app.organizationId,
          stream: "system",
          data: `==> Queued: ${request.title} (${request.trigger})${waiting.length - superseded.length > 0 || this.running ? " behind earlier deployments" : ""}\n`,
          createdAt: now,
        }),
      ]);
      return { deployment: row, coalesced: false, superseded };
    });
    this.kick();
    return result;
  }

  /** Cancels one deployment: dropped while waiting, aborted on the host while running. */
  async cancel(deploymentId: string, reason: string): Promise<{ status: DeploymentStatus | "unknown" }> {
    return this.exclusive(async () => {
      if (this.running?.id === deploymentId) {
        this.stopRunning("cancel", reason);
        return { status: "cancelled" as const };
      }
      const db = this.db();
      const [row] = await db.select().from(deployments).where(eq(deployments.id, deploymentId)).limit(1);
      if (!row) return { status: "unknown" as const };
      if (row.status === "queued") {
        await this.finishWaiting(db, row, "cancelled", `${reason} before it started`, true);
        return { status: "cancelled" as const };
      }
      return { status: row.status };
    });
  }

  /** Drops everything waiting and aborts what runs (the application is being deleted). */
  async cancelAll(reason: string): Promise<void> {
    await this.exclusive(async () => {
      if (this.running) this.stopRunning("cancel", reason);
      const app = this.applicationId;
      if (!app) return;
      const db = this.db();
      for (const row of await this.queued(db, app)) await this.finishWaiting(db, row, "cancelled", reason, false);
    });
  }

  /** What the queue is doing, for tests and diagnostics. */
  async state(): Promise<{ running: string | null }> {
    return { running: this.running?.id ?? null };
  }

  // ---- followers ----------------------------------------------------------------------------

  /** A follower of one deployment's output: a hibernatable WebSocket held by the Worker's SSE handler. */
  override async fetch(request: Request): Promise<Response> {
    return this.followers.accept(request, (req) => {
      const deploymentId = req.headers.get("x-pier-deployment");
      if (!deploymentId) return new Response("missing x-pier-deployment", { status: 400 });
      return { attachment: { deploymentId }, tags: [deploymentId] };
    });
  }

  override async webSocketMessage(): Promise<void> {
    // Followers only listen.
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    Subscribers.closed(ws, code);
  }

  private broadcast(deploymentId: string, message: FollowMessage, close = false): void {
    const frame = JSON.stringify(message);
    this.followers.publish(() => frame, { tag: deploymentId, ...(close ? { close: "deployment finished" } : {}) });
  }

  // ---- the runner ---------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    const r = this.running;
    if (r && Date.now() >= r.deadline + DEADLINE_GRACE_MS) this.stopRunning("timeout", `timed out after ${r.timeoutSeconds} s`);
    // A fresh instance (after a restart) finds its orphans and its waiting deployments here.
    this.kick();
    await this.scheduleAlarm();
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain()
      .catch((err) => console.error(JSON.stringify({ level: "error", msg: "deploy queue: drain failed", ...errorLogFields(err) })))
      .finally(() => {
        this.draining = undefined;
      });
  }

  private async drain(): Promise<void> {
    for (;;) {
      const next = await this.exclusive(() => this.startNext());
      await this.scheduleAlarm();
      if (!next) return;
      await this.execute(next.deployment, next.app);
    }
  }

  /** Fails orphans, then takes the oldest waiting deployment and marks it building. */
  private async startNext(): Promise<{ deployment: DeploymentRow; app: ApplicationRow | undefined } | null> {
    const appId = this.applicationId;
    if (!appId || this.running) return null;
    const db = this.db();
    await this.failOrphans(db, appId);
    const [next] = await this.queued(db, appId);
    if (!next) return null;
    const [app] = await db.select().from(applications).where(eq(applications.id, appId)).limit(1);
    const [{ seq } = { seq: 0 }] = await db
      .select({ seq: max(deploymentLogs.seq) })
      .from(deploymentLogs)
      .where(eq(deploymentLogs.deploymentId, next.id));
    const now = nowIso();
    const r: Running = {
      id: next.id,
      organizationId: next.organizationId,
      applicationId: appId,
      taskId: next.taskId,
      hostId: app?.hostId ?? null,
      deadline: Date.now() + next.timeoutSeconds * 1000,
      timeoutSeconds: next.timeoutSeconds,
      output: new DeployOutput(
        (seq ?? 0) + 1,
        (pieces) => this.storeOutput(next.id, next.organizationId, pieces),
        (pieces) => this.broadcast(next.id, { type: "logs", logs: pieces }),
      ),
    };
    this.running = r;
    await db.batch([
      db
        .update(deployments)
        .set({ status: "building", startedAt: now, updatedAt: now, hostId: r.hostId })
        .where(eq(deployments.id, next.id)),
      ...(app ? [db.update(applications).set({ status: "deploying", updatedAt: now }).where(eq(applications.id, appId))] : []),
    ]);
    if (next.taskId)
      await updateTask(db, next.taskId, { status: "running", progress: 5, message: taskMessage(app?.name, "building") }).catch(
        () => undefined,
      );
    return { deployment: { ...next, status: "building", startedAt: now }, app };
  }

  private async execute(deployment: DeploymentRow, app: ApplicationRow | undefined): Promise<void> {
    const r = this.running!;
    const db = this.db();
    // What the application is again if this deployment does not replace its container.
    const previousStatus = app?.currentDeploymentId ? (app.status === "stopped" ? "stopped" : "running") : "idle";
    try {
      if (!app) throw new DeployError("the application was deleted");
      if (!app.hostId)
        throw new DeployError(
          "the application has no host: register one (POST /api/v1/hosts) and set host_id on the application, then deploy again",
        );
      if (!app.sourceType && !deployment.rollbackOf)
        throw new DeployError("the application has no source yet: set an image or a git repository, then deploy again");
      const [host] = await db.select({ name: hosts.name }).from(hosts).where(eq(hosts.id, app.hostId)).limit(1);
      const domainRows = await db.select().from(domains).where(eq(domains.applicationId, app.id));
      const plan = await deployPlan(this.env, app, deployment, domainRows, db).catch((err: unknown) => {
        // A missing vault reference is the user's to fix, said as it is, not an unexpected failure.
        throw err instanceof VaultReferenceError ? new DeployError(err.message) : err;
      });
      r.output.setSecrets(plan.secrets);
      this.log(
        "system",
        `==> ${deployment.title}: ${app.name} (${app.appName}) on host ${host?.name ?? app.hostId}, timeout ${r.timeoutSeconds} s\n`,
      );

      let image = deployment.imageTag;
      if (plan.build) {
        const built = await this.step<DeployBuildResult>("deploy.build", plan.build);
        image = built.image;
        await db
          .update(deployments)
          .set({
            commitSha: built.commit ?? deployment.commitSha,
            commitMessage: built.commit_message ?? deployment.commitMessage,
            imageTag: built.image,
            imageId: built.image_id,
            updatedAt: nowIso(),
          })
          .where(eq(deployments.id, r.id));
        if (built.compose) return await this.succeed(db, app, { image: null, containerId: null });
      } else {
        this.log("system", `==> Rolling back: reusing the image of ${deployment.rollbackOf} (${image})\n`);
      }
      if (!image) throw new DeployError("the build produced no image");
      await db.update(deployments).set({ status: "deploying", updatedAt: nowIso() }).where(eq(deployments.id, r.id));
      if (r.taskId) await updateTask(db, r.taskId, { progress: 60, message: taskMessage(app?.name, "deploying") }).catch(() => undefined);
      const ran = await this.step<DeployRunResult>("deploy.run", { ...plan.run, image, deployment_id: r.id });
      await this.succeed(db, app, { image, containerId: ran.container_id });
    } catch (err) {
      await this.fail(db, app, err, previousStatus);
    } finally {
      this.running = undefined;
    }
  }

  /** Runs one streaming op on the host, storing its output; returns its outcome or throws why not. */
  private async step<T>(op: "deploy.build" | "deploy.run", args: Record<string, unknown>): Promise<T> {
    const r = this.running!;
    // Read through a function: a cancel can set it while this awaits.
    const stopped = (): Running["stop"] => r.stop;
    if (stopped()) throw new DeployError(stopped()!.message);
    const remaining = r.deadline - Date.now();
    if (remaining <= 0) throw new DeployError(`timed out after ${r.timeoutSeconds} s`, "timeout");
    const streamId = crypto.randomUUID();
    r.streamId = streamId;
    const opened = openedStream(
      await this.env.HOST_RELAY.getByName(r.hostId!).openStream(op, { ...args, timeout_ms: remaining }, { id: streamId }),
    );
    if (!opened.ok) throw new DeployError(stepFailure(op, opened.error), opened.error.code);
    const reader = opened.stream.getReader();
    r.reader = reader;
    try {
      if (stopped()) {
        await reader.cancel().catch(() => undefined);
        throw new DeployError(stopped()!.message);
      }
      const outcome = await readRelayStream(reader, (chunk) => this.log(chunk.stream ?? "stdout", chunk.data));
      if (outcome.ok) return outcome.data as T;
      if (outcome.error.code === "incomplete")
        throw new DeployError(stopped()?.message ?? `the host's ${op} stream ended without an outcome`);
      throw new DeployError(stepFailure(op, outcome.error), outcome.error.code);
    } finally {
      r.reader = undefined;
      r.streamId = undefined;
    }
  }

  private stopRunning(kind: "cancel" | "timeout", message: string): void {
    const r = this.running;
    if (!r || r.stop) return;
    r.stop = { kind, message };
    this.log("system", `==> ${kind === "timeout" ? "Timed out" : "Cancelled"}: ${message}; aborting on the host\n`);
    // The relay sends `cancel` to the agent, which aborts the build or the new container and
    // leaves the running version alone; the stream then ends and the step fails.
    if (r.streamId && r.hostId)
      void this.env.HOST_RELAY.getByName(r.hostId)
        .cancelStream(r.streamId)
        .catch(() => undefined);
    else void r.reader?.cancel().catch(() => undefined);
  }

  private async succeed(db: Database, app: ApplicationRow, result: { image: string | null; containerId: string | null }): Promise<void> {
    const r = this.running!;
    if (result.image) await this.pruneImages(db, app, result.image);
    this.log("system", "==> Deployment succeeded\n");
    await r.output.flush();
    const now = nowIso();
    await db.batch([
      db
        .update(deployments)
        .set({ status: "succeeded", containerId: result.containerId, finishedAt: now, updatedAt: now })
        .where(eq(deployments.id, r.id)),
      db
        .update(applications)
        .set({ status: "running", currentDeploymentId: r.id, currentImage: result.image, containerId: result.containerId, updatedAt: now })
        .where(eq(applications.id, app.id)),
      ...(r.taskId ? [taskUpdate(db, r.taskId, { status: "succeeded", message: taskMessage(app.name, "deployed") })] : []),
    ]);
    this.broadcast(r.id, { type: "end", status: "succeeded", error: null }, true);
    await notify(this.env, {
      organizationId: r.organizationId,
      kind: "deployment.succeeded",
      title: `${app.name} deployed`,
      message: `Deployment ${r.id} of ${app.name} succeeded${result.image ? ` (${result.image})` : ""}.`,
      targetType: "deployment",
      targetId: r.id,
      data: { application_id: app.id, app_name: app.appName, status: "succeeded" },
    });
  }

  /**
   * Removes the images of deployments older than the last N successful ones (this one counts), so
   * that a host keeps what a rollback needs and no more. A failure is reported, never fatal.
   */
  private async pruneImages(db: Database, app: ApplicationRow, image: string): Promise<void> {
    const r = this.running!;
    const keepCount = keepDeploymentImages(this.env);
    try {
      const keep = [...new Set([image, ...(await keptImageTags(db, app.id, keepCount - 1))])];
      const pruned = await runOnHost(this.env, r.hostId!, "deploy.prune", { app_id: app.id, app_name: app.appName, keep });
      if (pruned.removed.length > 0)
        this.log(
          "system",
          `==> Removed ${pruned.removed.length} image(s) of older deployments (the last ${keepCount} successful ones are kept for rollback): ${pruned.removed.join(", ")}\n`,
        );
    } catch (err) {
      this.log("system", `==> Could not prune the images of older deployments: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }

  private async fail(db: Database, app: ApplicationRow | undefined, err: unknown, previousStatus: ApplicationRow["status"]): Promise<void> {
    const r = this.running!;
    const code = err instanceof DeployError ? err.code : undefined;
    const timedOut = r.stop?.kind === "timeout" || code === "timeout" || code === "deadline_exceeded" || Date.now() >= r.deadline;
    const cancelled = r.stop?.kind === "cancel" && !timedOut;
    const status: DeploymentStatus = cancelled ? "cancelled" : "failed";
    const reason = cancelled
      ? r.stop!.message
      : timedOut
        ? `timed out after ${r.timeoutSeconds} s (the host aborted it; the running version was left as it was)`
        : r.output.scrubText(errorText(err));
    if (!(err instanceof DeployError))
      console.error(JSON.stringify({ level: "error", msg: "deploy queue: unexpected failure", deployment: r.id, ...errorLogFields(err) }));
    this.log("system", `==> Deployment ${status}: ${reason}\n`);
    await r.output.flush();
    const now = nowIso();
    await db.batch([
      db.update(deployments).set({ status, error: reason, finishedAt: now, updatedAt: now }).where(eq(deployments.id, r.id)),
      // Never deployed and this one failed: "failed"; otherwise the old container still serves.
      ...(app
        ? [
            db
              .update(applications)
              .set({ status: previousStatus === "idle" && !cancelled ? "failed" : previousStatus, updatedAt: now })
              .where(eq(applications.id, app.id)),
          ]
        : []),
      ...(r.taskId ? [taskUpdate(db, r.taskId, { status, message: taskMessage(app?.name, reason) })] : []),
    ]);
    this.broadcast(r.id, { type: "end", status, error: reason }, true);
    const kind: NotificationKind = cancelled ? "deployment.cancelled" : timedOut ? "deployment.timed_out" : "deployment.failed";
    const name = app?.name ?? r.applicationId;
    await notify(this.env, {
      organizationId: r.organizationId,
      kind,
      title: `${name}: deployment ${cancelled ? "cancelled" : timedOut ? "timed out" : "failed"}`,
      message: `Deployment ${r.id} of ${name} ${status}: ${reason}`,
      targetType: "deployment",
      targetId: r.id,
      data: { application_id: r.applicationId, ...(app ? { app_name: app.appName } : {}), status, error: reason },
    });
  }

  /** Finishes a deployment that never started (cancelled or superseded while waiting). */
  private async finishWaiting(
    db: Database,
    row: DeploymentRow,
    status: "cancelled" | "failed",
    reason: string,
    announce: boolean,
  ): Promise<void> {
    const now = nowIso();
    const [{ seq } = { seq: 0 }] = await db
      .select({ seq: max(deploymentLogs.seq) })
      .from(deploymentLogs)
      .where(eq(deploymentLogs.deploymentId, row.id));
    await db.batch([
      db
        .update(deployments)
        .set({ status, error: reason, finishedAt: now, updatedAt: now })
        .where(and(eq(deployments.id, row.id), eq(deployments.status, row.status))),
      db.insert(deploymentLogs).values({
        deploymentId: row.id,
        seq: (seq ?? 0) + 1,
        organizationId: row.organizationId,
        stream: "system",
        data: `==> ${status === "cancelled" ? "Cancelled" : "Failed"}: ${reason}\n`,
        createdAt: now,
      }),
      ...(row.taskId ? [taskUpdate(db, row.taskId, { status, message: reason.slice(0, 500) })] : []),
    ]);
    this.broadcast(row.id, { type: "end", status, error: reason }, true);
    if (announce) {
      await notify(this.env, {
        organizationId: row.organizationId,
        kind: status === "cancelled" ? "deployment.cancelled" : "deployment.failed",
        title: `Deployment ${status}`,
        message: `Deployment ${row.id} ${status}: ${reason}`,
        targetType: "deployment",
        targetId: row.id,
        data: { application_id: row.applicationId, status },
      });
    }
  }

  /** Deployments marked running that this instance is not running: it restarted under them. */
  private async failOrphans(db: Database, appId: string): Promise<void> {
    const orphans = await db
      .select()
      .from(deployments)
      .where(and(eq(deployments.applicationId, appId), inArray(deployments.status, ACTIVE)));
    for (const row of orphans) {
      if (row.id === this.running?.id) continue;
      await this.finishWaiting(
        db,
        row,
        "failed",
        "interrupted: the deployment queue restarted while it ran (a platform update); the host aborted it or finished the switch on its own — check the application and deploy again",
        true,
      );
    }
    if (orphans.some((row) => row.id !== this.running?.id)) {
      // The application was left "deploying" by the interrupted run: back to what it serves.
      const [app] = await db.select().from(applications).where(eq(applications.id, appId)).limit(1);
      if (app?.status === "deploying") {
        await db
          .update(applications)
          .set({ status: app.currentDeploymentId ? "running" : "failed", updatedAt: nowIso() })
          .where(eq(applications.id, appId));
      }
    }
  }

  private async queued(db: Database, appId: string): Promise<DeploymentRow[]> {
    return db
      .select()
      .from(deployments)
      .where(and(eq(deployments.applicationId, appId), eq(deployments.status, "queued")))
      .orderBy(asc(deployments.createdAt), asc(deployments.id));
  }

  private async scheduleAlarm(): Promise<void> {
    const r = this.running;
    if (r) {
      await this.ctx.storage.setAlarm(Math.min(r.deadline + DEADLINE_GRACE_MS, Date.now() + WATCHDOG_MS));
      return;
    }
    const appId = this.applicationId;
    const waiting = appId ? await this.queued(this.db(), appId) : [];
    if (waiting.length > 0) await this.ctx.storage.setAlarm(Date.now() + 1_000);
    else await this.ctx.storage.deleteAlarm();
  }

  // ---- output -------------------------------------------------------------------------------

  private log(stream: OutputStream, text: string): void {
    this.running?.output.write(stream, text);
  }

  private async storeOutput(deploymentId: string, organizationId: string, pieces: OutputPiece[]): Promise<void> {
    try {
      await this.db()
        .insert(deploymentLogs)
        .values(pieces.map((p) => ({ deploymentId, seq: p.seq, organizationId, stream: p.stream, data: p.data, createdAt: p.at })));
    } catch (err) {
      console.error(
        JSON.stringify({ level: "error", msg: "deploy queue: could not store output", deployment: deploymentId, ...errorLogFields(err) }),
      );
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  private db(): Database {
    return createDatabase(this.env);
  }

  /** Runs `fn` after every earlier call has finished: the queue's state changes one at a time. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.lock.then(fn, fn);
    this.lock = result.catch(() => undefined);
    return result;
  }
}
