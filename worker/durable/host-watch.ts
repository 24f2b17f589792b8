import type { DockerEvent, HostSample } from "#protocol";
import { createDatabase } from "../db/client.ts";
import type { HostState } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { disconnectNoticeMs } from "../settings.ts";
import { ingestAgentMetrics } from "../services/metrics.ts";
import { createNotification, notify, type NotifyInput } from "../services/notifications.ts";
import { errorLogFields } from "../db/errors.ts";

/** What HostRelay tells the watch about the host it serves. */
export interface WatchedHost {
  id: string;
  organizationId: string;
  name: string;
}

/** A `die` this soon after a `kill` is the stop or kill someone asked for. */
const USER_STOP_WINDOW_MS = 60_000;
/** An `oom` this soon before a `die` is why it died. */
const OOM_WINDOW_MS = 10_000;
/** This many unexpected exits within the window is a restart loop… */
const LOOP_DIES = 3;
const LOOP_WINDOW_MS = 10 * 60_000;
/** …announced once per this long, during which its single deaths are not announced. */
const LOOP_QUIET_MS = 30 * 60_000;

interface ContainerMemory {
  killedAt?: number;
  oomAt?: number;
  /** Times of recent unexpected exits. */
  dies: number[];
  loopNotifiedAt?: number;
}

interface PresenceNotice {
  /** What was announced. */
  state: "disconnected" | "lost";
  /** When the agent went away. */
  since: number;
}

/** A presence notice that could not be written is tried again this much later. */
const NOTICE_RETRY_MS = 30_000;

const duration = (ms: number) =>
  ms < 90_000 ? `${Math.round(ms / 1000)} s` : ms < 90 * 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 3_600_000)} h`;

/**
 * The HostRelay's notification hooks: presence (disconnected, lost, back online), containers
 * that die unexpectedly or restart in a loop, and host metrics. State lives in the object's own
 * storage, so it survives hibernation. Every hook swallows its errors: the relay must go on.
 */
export class HostWatch {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly env: Bindings,
  ) {}

  get disconnectNoticeMs(): number {
    return disconnectNoticeMs(this.env);
  }

  // ---- presence ----------------------------------------------------------------------------------

  /** The agent said hello: if we announced it gone, announce it back. */
  async online(host: WatchedHost): Promise<void> {
    const notice = this.storage.kv.get<PresenceNotice>("presence-notice");
    if (!notice) return;
    this.storage.kv.delete("presence-notice");
    await notify(this.env, {
      organizationId: host.organizationId,
      kind: "host.online",
      title: `Host ${host.name} is back online`,
      message: `The agent on ${host.name} reconnected after ${duration(Date.now() - notice.since)}.`,
      targetType: "host",
      targetId: host.id,
      data: { host_id: host.id, host_name: host.name, was: notice.state, offline_since: new Date(notice.since).toISOString() },
    });
  }

  /**
   * Called from the relay's alarm while no agent is connected. Announces a disconnect that lasted
   * past the notice delay, and a lost host, once each; returns when to look again, if ever.
   */
  async offline(host: WatchedHost, row: { state: HostState; disconnectedAt: string | null }, lostAfterMs: number): Promise<number | null> {
    if (row.state !== "disconnected" && row.state !== "lost") return null;
    const since = row.disconnectedAt ? Date.parse(row.disconnectedAt) : Date.now();
    const notice = this.storage.kv.get<PresenceNotice>("presence-notice");
    if (row.state === "lost") {
      if (notice?.state !== "lost") {
        const sent = await this.announce(
          notice,
          { state: "lost", since },
          {
            organizationId: host.organizationId,
            kind: "host.lost",
            title: `Host ${host.name} is lost`,
            message: `No contact with the agent on ${host.name} for ${duration(Date.now() - since)}. Check that the machine is up and the agent running (systemctl status pier-agent).`,
            targetType: "host",
            targetId: host.id,
            data: { host_id: host.id, host_name: host.name, disconnected_at: row.disconnectedAt },
          },
        );
        if (!sent) return Date.now() + NOTICE_RETRY_MS;
      }
      return null;
    }
    if (!notice && Date.now() - since >= this.disconnectNoticeMs) {
      const sent = await this.announce(
        notice,
        { state: "disconnected", since },
        {
          organizationId: host.organizationId,
          kind: "host.disconnected",
          title: `Host ${host.name} disconnected`,
          message: `The agent on ${host.name} has been disconnected since ${row.disconnectedAt ?? "just now"}; commands to it fail until it reconnects.`,
          targetType: "host",
          targetId: host.id,
          data: { host_id: host.id, host_name: host.name, disconnected_at: row.disconnectedAt },
        },
      );
      if (!sent) return Date.now() + NOTICE_RETRY_MS;
    }
    // Next: the notice if it is still ahead, else the moment the host counts as lost.
    const noticeAt = since + this.disconnectNoticeMs;
    return noticeAt > Date.now() ? Math.min(noticeAt, since + lostAfterMs) : since + lostAfterMs;
  }

  /**
   * Records a presence notice as sent, then writes it. The record comes first and synchronously,
   * so two wakes of the relay at once (its alarm and the cron sweep) cannot both announce; if the
   * write fails, the record is put back, so the next look announces it rather than never.
   */
  private async announce(previous: PresenceNotice | undefined, next: PresenceNotice, input: NotifyInput): Promise<boolean> {
    this.storage.kv.put("presence-notice", next);
    try {
      await createNotification(createDatabase(this.env), this.env, input);
      return true;
    } catch (err) {
      if (previous) this.storage.kv.put("presence-notice", previous);
      else this.storage.kv.delete("presence-notice");
      console.error(
        JSON.stringify({
          level: "error",
          msg: "host watch: presence notice failed; will retry",
          kind: input.kind,
          host: input.targetId,
          ...errorLogFields(err),
        }),
      );
      return false;
    }
  }

  // ---- containers --------------------------------------------------------------------------------

  /**
   * Docker events → "died unexpectedly" and "restarting in a loop". A `die` is unexpected when
   * the container exited non-zero or was OOM-killed, and no `kill` (docker stop, docker kill, a
   * stop through Pier) came just before it.
   */
  async containerEvents(host: WatchedHost, events: DockerEvent[]): Promise<void> {
    // Bookkeeping first, all synchronous (the storage KV API is): the relay may start on the next
    // batch while this one's notifications are being sent, and must find this batch's kills.
    const deaths: Array<() => Promise<void>> = [];
    for (const event of events) {
      if (event.type !== "container") continue;
      const action = event.action.split(":")[0]!.trim();
      const key = `container:${event.id}`;
      if (action === "destroy") {
        this.storage.kv.delete(key);
        continue;
      }
      if (action !== "kill" && action !== "oom" && action !== "die") continue;
      if (isBuildStep(event)) continue;
      const memory = this.storage.kv.get<ContainerMemory>(key) ?? { dies: [] };
      const at = event.time || Date.now();
      if (action === "kill") memory.killedAt = at;
      else if (action === "oom") memory.oomAt = at;
      else {
        const exitCode = Number(event.attributes.exitCode ?? "0");
        const oom = memory.oomAt !== undefined && at - memory.oomAt <= OOM_WINDOW_MS;
        const asked = memory.killedAt !== undefined && at - memory.killedAt <= USER_STOP_WINDOW_MS && !oom;
        memory.killedAt = undefined;
        memory.oomAt = undefined;
        if (!asked && (exitCode !== 0 || oom)) {
          memory.dies = [...memory.dies.filter((t) => at - t <= LOOP_WINDOW_MS), at];
          const notice = this.deathNotice(host, event, exitCode, oom, memory, at);
          if (notice) deaths.push(notice);
        }
      }
      this.storage.kv.put(key, memory);
    }
    for (const announce of deaths) await announce();
  }

  /** Decides (and records in `memory`) what to say about a death; returns how to say it. */
  private deathNotice(
    host: WatchedHost,
    event: DockerEvent,
    exitCode: number,
    oom: boolean,
    memory: ContainerMemory,
    at: number,
  ): (() => Promise<void>) | undefined {
    const name = event.attributes.name ?? event.id.slice(0, 12);
    const image = event.attributes.image;
    const data = {
      host_id: host.id,
      host_name: host.name,
      container_id: event.id,
      container_name: name,
      image: image ?? null,
      exit_code: exitCode,
      oom,
    };
    const quiet = memory.loopNotifiedAt !== undefined && at - memory.loopNotifiedAt < LOOP_QUIET_MS;
    if (memory.dies.length >= LOOP_DIES && !quiet) {
      memory.loopNotifiedAt = at;
      const deaths = memory.dies.length;
      const first = memory.dies[0]!;
      return () =>
        notify(this.env, {
          organizationId: host.organizationId,
          kind: "container.restart_loop",
          title: `Container ${name} is restarting in a loop on ${host.name}`,
          message: `${name} died ${deaths} times in ${duration(at - first)} (last exit code ${exitCode}${oom ? ", out of memory" : ""}). Check its logs.`,
          targetType: "container",
          targetId: event.id,
          data: { ...data, deaths },
        });
    }
    if (quiet) return undefined;
    return () =>
      notify(this.env, {
        organizationId: host.organizationId,
        kind: "container.died",
        title: `Container ${name} died on ${host.name}`,
        message: oom
          ? `${name}${image ? ` (${image})` : ""} was killed for running out of memory (exit code ${exitCode}).`
          : `${name}${image ? ` (${image})` : ""} exited unexpectedly with code ${exitCode}.`,
        targetType: "container",
        targetId: event.id,
        data,
      });
  }

  // ---- metrics -----------------------------------------------------------------------------------

  async metrics(host: WatchedHost, samples: HostSample[], sentAt: number): Promise<void> {
    await ingestAgentMetrics(createDatabase(this.env), this.env, host, samples, sentAt);
  }
}

/** Runs a watch hook without letting its failure reach the relay. */
export async function quietly(what: string, host: string | undefined, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (err) {
    console.error(JSON.stringify({ level: "error", msg: `host watch: ${what} failed`, host, ...errorLogFields(err) }));
  }
}

/**
 * A `docker build` step runs in a throwaway container started from an image *id*; a failing
 * `RUN` step is a failed build (reported by its deployment), not a container that crashed.
 */
function isBuildStep(event: DockerEvent): boolean {
  return (event.attributes.image ?? "").startsWith("sha256:") && event.attributes["dev.pier.managed"] !== "true";
}
