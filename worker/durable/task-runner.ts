import { DurableObject } from "cloudflare:workers";
import type { ComposeOpResults, ImagePruneResult, ImagePullResult, ImagePushResult, PullProgress, SystemPruneResult } from "#protocol";
import { and, eq } from "drizzle-orm";
import { createDatabase } from "../db/client.ts";
import { backups } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { type CommandOutcome, describeRelayError, openedStream, readRelayStream } from "../lib/relay.ts";
import type { BulkAction, HostTaskSpec } from "../services/host-tasks.ts";
import { abortLeftUpload, type OpenMultipart, runBackup, runRestore } from "../services/backup-run.ts";
import { isProbe, runProbe, type ProbeTaskSpec } from "../services/probe-tasks.ts";
import type { BackupTaskSpec } from "../services/backups.ts";
import { runServerTask, type ServerTaskSpec } from "../services/server-run.ts";
import { getTask, isFinished, updateTask, type TaskPatch } from "../services/tasks.ts";
import { dockerHumanSize } from "../lib/human-size.ts";
import { errorLogFields, errorText } from "../db/errors.ts";

const SPEC_KEY = "spec";
/** A backup's multipart upload while it is open (services/backup-run.ts OpenMultipart). */
const MULTIPART_KEY = "multipart";
/** While a task runs the alarm comes at least this often: a deadline passed, or a lost runner. */
const WATCHDOG_MS = 60_000;
/** Progress is written to the database at most this often (the last word always is). */
const PROGRESS_EVERY_MS = 1_000;

/** The task's log keeps its last this many lines (backups and restores). */
const LOG_LINES = 500;

type RunnerSpec = HostTaskSpec | BackupTaskSpec | ServerTaskSpec | ProbeTaskSpec;

interface Stored {
  spec: RunnerSpec;
  deadline: number;
}

class TaskStopped extends Error {}

/**
 * One per host task (named by the task's id): an image pull or a bulk container action. It runs
 * the task against the host's HostRelay off the request path, writes status, progress and result
 * to the task row, and can be cancelled. The alarm is its watchdog: past the deadline it aborts the
 * task; a fresh instance that finds a task it is not running (the object restarted) fails it, so
 * no task stays "running" forever.
 */
export class TaskRunner extends DurableObject<Bindings> {
  private running?: Promise<void>;
  private stop?: string;
  /** The relay stream of a pull in progress, so a cancel can name it. */
  private streamId?: string;
  /** Stops a backup or restore (its relay transfer and its upload). */
  private readonly abort = new AbortController();

  // ---- RPC --------------------------------------------------------------------------------

  /** Starts the task (once: a second call for the same task does nothing). */
  async start(spec: RunnerSpec): Promise<void> {
    if (this.ctx.storage.kv.get<Stored>(SPEC_KEY)) return;
    const stored: Stored = { spec, deadline: Date.now() + spec.timeoutMs };
    this.ctx.storage.kv.put(SPEC_KEY, stored);
    await this.ctx.storage.setAlarm(Date.now() + Math.min(WATCHDOG_MS, spec.timeoutMs));
    this.running = this.run(stored).finally(async () => {
      this.running = undefined;
      // An upload the run's own abort could not end (the store failed to answer): once more.
      await this.abortLeftUpload(spec);
      await this.ctx.storage.deleteAlarm();
      this.ctx.storage.kv.delete(SPEC_KEY);
    });
  }

  /** Asks a running task to stop; false when it is not running here. */
  async cancel(why: string): Promise<boolean> {
    if (!this.running) return false;
    this.halt(why);
    return true;
  }

  override async alarm(): Promise<void> {
    const stored = this.ctx.storage.kv.get<Stored>(SPEC_KEY);
    if (!stored) return;
    if (this.running) {
      if (Date.now() >= stored.deadline) this.halt(`timed out after ${Math.round(stored.spec.timeoutMs / 1000)} s`);
      await this.ctx.storage.setAlarm(Date.now() + Math.max(1_000, Math.min(WATCHDOG_MS, stored.deadline - Date.now())));
      return;
    }
    // A fresh instance: whatever ran this task is gone, and it must not stay "running".
    this.ctx.storage.kv.delete(SPEC_KEY);
    const left = await this.abortLeftUpload(stored.spec);
    await this.finish(stored.spec, {
      status: "failed",
      message: `Interrupted: the control plane restarted while this task ran.${left} Run it again.`,
    });
  }

  /**
   * A backup's multipart upload this instance can no longer finish: aborted, so it leaves no
   * parts behind. Answers what the task's message should add.
   */
  private async abortLeftUpload(spec: RunnerSpec): Promise<string> {
    const open = this.ctx.storage.kv.get<OpenMultipart>(MULTIPART_KEY);
    if (!open) return "";
    try {
      await abortLeftUpload(this.env, spec.organizationId, open);
      this.ctx.storage.kv.delete(MULTIPART_KEY);
      return " Its unfinished upload was aborted in the store.";
    } catch (error) {
      console.error(
        JSON.stringify({ level: "error", msg: "task runner: could not abort a left upload", task: spec.taskId, ...errorLogFields(error) }),
      );
      this.ctx.storage.kv.delete(MULTIPART_KEY);
      return ` Its unfinished upload could not be aborted (${errorText(error)}); the store's lifecycle rule will remove it.`;
    }
  }

  // ---- the runner ---------------------------------------------------------------------------

  private halt(why: string): void {
    if (this.stop) return;
    this.stop = why;
    this.abort.abort(new Error(stopMessage(why)));
    if (this.streamId && this.running) {
      const spec = this.ctx.storage.kv.get<Stored>(SPEC_KEY)?.spec;
      if (spec && "hostId" in spec)
        void this.env.HOST_RELAY.getByName(spec.hostId)
          .cancelStream(this.streamId)
          .catch(() => undefined);
    }
  }

  private async run({ spec }: Stored): Promise<void> {
    try {
      await updateTask(this.db(), spec.taskId, { status: "running", progress: 0 });
      if (isProbe(spec)) return await this.finish(spec, await runProbe(this.db(), spec));
      const outcome =
        spec.kind === "backup" || spec.kind === "restore"
          ? await this.backupTask(spec)
          : isServerTask(spec)
            ? await this.serverTask(spec)
            : spec.kind === "container.bulk"
              ? await this.bulk(spec)
              : spec.kind === "container.create"
                ? await this.pullThenCreate(spec)
                : await this.progressStream(spec);
      await this.finish(spec, outcome);
    } catch (error) {
      const message = error instanceof TaskStopped ? error.message : `The task failed: ${errorText(error)}`;
      await this.finish(spec, { status: this.stop?.startsWith("cancelled") ? "cancelled" : "failed", message }).catch((err) =>
        console.error(
          JSON.stringify({ level: "error", msg: "task runner: could not record the outcome", task: spec.taskId, ...errorLogFields(err) }),
        ),
      );
    }
  }

  /** Writes the final word unless the task already has one (a cancel raced the end). */
  private async finish(spec: RunnerSpec, patch: TaskPatch): Promise<void> {
    const db = this.db();
    const task = await getTask(db, spec.organizationId, spec.taskId).catch(() => null);
    if (!task || isFinished(task.status)) return;
    await updateTask(db, spec.taskId, patch);
    // A backup whose run ended without its own word (the object restarted, a cancel before it
    // began): its record must not stay "running", nor ever count as good.
    if (spec.kind === "backup" && patch.status !== "succeeded")
      await db
        .update(backups)
        .set({ status: "failed", error: patch.message ?? "The backup's task ended.", finishedAt: new Date().toISOString() })
        .where(and(eq(backups.id, spec.backupId), eq(backups.status, "running")));
  }

  /**
   * A backup or a restore (services/backup-run.ts): bytes done and a log in the task's result,
   * written at most once a second; a cancel aborts the relay transfer and the upload.
   */
  private async backupTask(spec: BackupTaskSpec): Promise<TaskPatch> {
    const db = this.db();
    const log: string[] = [];
    let latest: TaskPatch = {};
    let writtenAt = 0;
    let writing: Promise<void> | undefined;
    const write = (force = false) => {
      if (writing || (!force && Date.now() - writtenAt < PROGRESS_EVERY_MS)) return;
      writtenAt = Date.now();
      const patch: TaskPatch = { ...latest, result: { ...latest.result, log: [...log] } };
      writing = updateTask(db, spec.taskId, patch)
        .catch(() => undefined)
        .finally(() => {
          writing = undefined;
        });
    };
    const hooks = {
      signal: this.abort.signal,
      multipart: (open: OpenMultipart | null) => {
        if (open) this.ctx.storage.kv.put(MULTIPART_KEY, open);
        else this.ctx.storage.kv.delete(MULTIPART_KEY);
      },
      progress: (patch: TaskPatch) => {
        latest = { ...latest, ...patch };
        write();
      },
      log: (line: string) => {
        log.push(`${new Date().toISOString()} ${line}`);
        if (log.length > LOG_LINES) log.splice(0, log.length - LOG_LINES);
        write();
      },
    };
    try {
      const outcome = spec.kind === "backup" ? await runBackup(this.env, spec, hooks) : await runRestore(this.env, spec, hooks);
      await writing;
      return { ...outcome, result: { ...latest.result, ...outcome.result, log } };
    } catch (error) {
      await writing;
      if (this.stop) {
        await updateTask(db, spec.taskId, { result: { ...latest.result, log } }).catch(() => undefined);
        throw new TaskStopped(stopMessage(this.stop));
      }
      throw error;
    }
  }

  /**
   * A server task (services/server-run.ts): one server after another, each one's outcome in the
   * result; progress written at most once a second, and a cancel stops before the next server.
   */
  private async serverTask(spec: ServerTaskSpec): Promise<TaskPatch> {
    const db = this.db();
    let latest: TaskPatch = {};
    let writtenAt = 0;
    let writing: Promise<void> | undefined;
    const outcome = await runServerTask(this.env, spec, {
      signal: this.abort.signal,
      progress: (patch) => {
        latest = { ...latest, ...patch };
        if (writing || Date.now() - writtenAt < PROGRESS_EVERY_MS) return;
        writtenAt = Date.now();
        writing = updateTask(db, spec.taskId, latest)
          .catch(() => undefined)
          .finally(() => {
            writing = undefined;
          });
      },
    }).catch(async (error) => {
      await writing;
      if (this.stop) {
        await updateTask(db, spec.taskId, { result: latest.result }).catch(() => undefined);
        throw new TaskStopped(stopMessage(this.stop));
      }
      throw error;
    });
    await writing;
    return outcome;
  }

  /**
   * A host operation that streams `{progress, status}` JSON lines and ends with its outcome (an
   * image pull, a system prune): progress goes to the row at most once a second, the outcome
   * becomes the task's result.
   */
  private async progressStream(spec: Extract<HostTaskSpec, { kind: StreamedKind }>): Promise<TaskPatch> {
    const db = this.db();
    const streamed = STREAMED[spec.kind];
    const streamId = crypto.randomUUID();
    this.streamId = streamId;
    const opened = openedStream(await this.env.HOST_RELAY.getByName(spec.hostId).openStream(spec.kind, spec.args, { id: streamId }));
    if (!opened.ok) return { status: "failed", message: describeRelayError(spec.kind, opened.error) };
    let latest: PullProgress = { progress: 0, status: "" };
    let writtenAt = 0;
    let pending = "";
    let outcome: Awaited<ReturnType<typeof readRelayStream>>;
    try {
      outcome = await readRelayStream(opened.stream, async (chunk) => {
        // Progress lines may be split across chunks.
        pending += chunk.data;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const text of lines) if (text.trim()) latest = JSON.parse(text) as PullProgress;
        if (Date.now() - writtenAt >= PROGRESS_EVERY_MS) {
          writtenAt = Date.now();
          await updateTask(db, spec.taskId, {
            progress: Math.min(99, latest.progress),
            message: latest.status || streamed.working(spec),
          });
        }
      });
    } finally {
      this.streamId = undefined;
    }
    if (outcome.ok) return { status: "succeeded", progress: 100, ...streamed.done(outcome.data) };
    if (this.stop) throw new TaskStopped(stopMessage(this.stop));
    if (outcome.error.code === "incomplete") throw new TaskStopped(`The host's ${streamed.noun} stream ended without an outcome.`);
    return { status: "failed", message: describeRelayError(spec.kind, outcome.error) };
  }

  /**
   * A container create whose image is not on the host: the pull's progress is the task's, then the
   * container is created from the pulled image (never pulling again) and becomes the task's result.
   */
  private async pullThenCreate(spec: Extract<HostTaskSpec, { kind: "container.create" }>): Promise<TaskPatch> {
    const { image } = spec.args;
    const pulled = await this.progressStream({ ...spec, kind: "image.pull", args: { image } });
    if (pulled.status !== "succeeded")
      return {
        ...pulled,
        message: `The image ${image} could not be pulled, so no container was created: ${pulled.message ?? "the pull failed"}`,
      };
    if (this.stop) throw new TaskStopped(`${stopMessage(this.stop)} after the pull; no container was created.`);
    await updateTask(this.db(), spec.taskId, { progress: 99, message: `Pulled ${image}; creating the container` });
    const outcome = (await this.env.HOST_RELAY.getByName(spec.hostId).command("container.create", {
      ...spec.args,
      pull_policy: "never",
    })) as CommandOutcome;
    if (!outcome.ok)
      return {
        status: "failed",
        message: `Pulled ${image}, but the create failed: ${describeRelayError("container.create", outcome.error)}`,
      };
    const created = outcome.data as { id: string; name: string; started: boolean };
    return {
      status: "succeeded",
      progress: 100,
      message: `Pulled ${image} and ${created.started ? "started" : "created"} ${created.name}.`,
      result: created,
    };
  }

  private async bulk(spec: Extract<HostTaskSpec, { kind: "container.bulk" }>): Promise<TaskPatch> {
    const db = this.db();
    const { action, ids } = spec.args;
    const relay = this.env.HOST_RELAY.getByName(spec.hostId);
    const items: Array<{ id: string; ok: boolean; changed?: boolean; error?: string }> = [];
    for (const [index, id] of ids.entries()) {
      if (this.stop) {
        await updateTask(db, spec.taskId, { result: { action, items } });
        throw new TaskStopped(`${stopMessage(this.stop)} after ${index} of ${ids.length} containers.`);
      }
      const outcome = (await relay.command(`container.${action}`, bulkArgs(spec.args, id))) as CommandOutcome;
      if (outcome.ok) {
        const data = outcome.data as { changed?: boolean };
        items.push({ id, ok: true, ...(typeof data.changed === "boolean" ? { changed: data.changed } : {}) });
      } else {
        items.push({ id, ok: false, error: outcome.error.message });
      }
      await updateTask(db, spec.taskId, {
        progress: Math.floor(((index + 1) / ids.length) * 100),
        message: `${verb(action)} ${index + 1} of ${ids.length}`,
        result: { action, items },
      });
    }
    const failed = items.filter((i) => !i.ok);
    if (failed.length === 0)
      return {
        status: "succeeded",
        message: `${verb(action)} ${ids.length} container${ids.length === 1 ? "" : "s"}: done.`,
        result: { action, items },
      };
    const first = failed[0]!;
    return {
      status: "failed",
      progress: 100,
      message: `${failed.length} of ${ids.length} failed (${first.id}: ${first.error})${failed.length > 1 ? "; see result.items" : ""}.`,
      result: { action, items },
    };
  }

  private db() {
    return createDatabase(this.env);
  }
}

const isServerTask = (spec: RunnerSpec): spec is ServerTaskSpec => spec.kind.startsWith("server.");

type StreamedKind = "image.pull" | "system.prune" | "compose.up" | "compose.pull" | "image.push" | "image.prune";

/** How each streamed kind talks about itself while it runs and once it is done. */
const STREAMED: {
  [K in StreamedKind]: {
    noun: string;
    working: (spec: Extract<HostTaskSpec, { kind: StreamedKind }>) => string;
    done: (data: unknown) => Pick<TaskPatch, "message" | "result">;
  };
} = {
  "image.pull": {
    noun: "pull",
    working: (spec) => `Pulling ${"image" in spec.args ? spec.args.image : "the image"}`,
    done: (data) => {
      const result = data as ImagePullResult;
      return { message: result.status || `Pulled ${result.image}`, result: { ...result } };
    },
  },
  "image.push": {
    noun: "push",
    working: (spec) => `Pushing ${"image" in spec.args ? spec.args.image : "the image"}`,
    done: (data) => {
      const result = data as ImagePushResult;
      return { message: `Pushed ${result.image}${result.digest ? ` (${result.digest})` : ""}`, result: { ...result } };
    },
  },
  "image.prune": {
    noun: "prune",
    working: () => "Pruning images",
    done: (data) => {
      const result = data as ImagePruneResult;
      return { message: `Total reclaimed space: ${dockerHumanSize(result.space_reclaimed)}`, result: { ...result } };
    },
  },
  "system.prune": {
    noun: "prune",
    working: () => "Pruning",
    done: (data) => {
      const result = data as SystemPruneResult;
      return { message: `Total reclaimed space: ${dockerHumanSize(result.space_reclaimed)}`, result: { ...result } };
    },
  },
  "compose.up": {
    noun: "compose up",
    working: (spec) => `Starting Compose project ${"project" in spec.args ? spec.args.project : ""}`,
    done: (data) => {
      const result = data as ComposeOpResults["compose.up"];
      const running = result.containers.filter((c) => c.State === "running").length;
      return {
        message: `Project ${result.project} is up: ${running} of ${result.containers.length} container(s) running.`,
        result: { ...result },
      };
    },
  },
  "compose.pull": {
    noun: "compose pull",
    working: (spec) => `Pulling the images of Compose project ${"project" in spec.args ? spec.args.project : ""}`,
    done: (data) => {
      const result = data as ComposeOpResults["compose.pull"];
      return { message: `Pulled the images of project ${result.project}.`, result: { ...result } };
    },
  },
};

function bulkArgs(args: Extract<HostTaskSpec, { kind: "container.bulk" }>["args"], id: string): Record<string, unknown> {
  switch (args.action) {
    case "stop":
    case "restart":
      return { id, ...(args.timeout !== undefined ? { timeout: args.timeout } : {}) };
    case "kill":
      return { id, ...(args.signal ? { signal: args.signal } : {}) };
    case "remove":
      return { id, force: args.force ?? false, volumes: args.volumes ?? false };
    default:
      return { id };
  }
}

const VERBS: Record<BulkAction, string> = {
  start: "Started",
  stop: "Stopped",
  restart: "Restarted",
  kill: "Killed",
  pause: "Paused",
  unpause: "Unpaused",
  remove: "Removed",
};
const verb = (action: BulkAction) => VERBS[action];

const stopMessage = (why: string) =>
  why.startsWith("cancelled") ? `Cancelled (${why.replace(/^cancelled:?\s*/, "") || "on request"})` : `Stopped: ${why}`;
