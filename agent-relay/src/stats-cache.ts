import type { DockerClient } from "./docker/client.ts";
import type { Logger } from "./log.ts";
import { normalizeStats, type ContainerCounts, type DockerEvent, type StatsSample } from "./protocol.ts";

interface Reader {
  controller: AbortController;
  done: Promise<void>;
}

export interface StatsCacheOptions {
  /** How often the running set is checked against `GET /containers/json`, in case an event was missed. */
  resyncMs?: number;
}

// Events after which a container's stats stream starts or stops.
// ("kill" is only a signal and may not stop anything; "die" follows when it does.)
const STARTS = new Set(["start", "unpause"]);
const STOPS = new Set(["die", "destroy"]);

/**
 * The latest stats sample of every running container, kept in memory so "stats for every
 * container" is answered at once instead of sampling each one (which takes Docker about a second
 * per container). One `stats?stream=true` reader per running container feeds it; Docker events
 * start and stop readers, and a periodic resync repairs anything an event missed.
 */
export class StatsCache {
  readonly #samples = new Map<string, StatsSample>();
  readonly #readers = new Map<string, Reader>();
  readonly #docker: DockerClient;
  readonly #log: Logger;
  readonly #resyncMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #counts: ContainerCounts | undefined;
  #stopped = false;
  #resyncing: Promise<void> | undefined;

  constructor(docker: DockerClient, log: Logger, options: StatsCacheOptions = {}) {
    this.#docker = docker;
    this.#log = log;
    this.#resyncMs = options.resyncMs ?? 30_000;
  }

  start(): void {
    void this.resync();
    this.#timer = setInterval(() => void this.resync(), this.#resyncMs);
    this.#timer.unref?.();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    const readers = [...this.#readers.values()];
    for (const reader of readers) reader.controller.abort();
    await Promise.allSettled(readers.map((reader) => reader.done));
    this.#readers.clear();
  }

  /** Samples of the containers being followed, newest per container. */
  all(): StatsSample[] {
    return [...this.#samples.values()];
  }

  /** Container counts from the last resync, for `hello` and `stats` messages. */
  counts(): ContainerCounts | undefined {
    return this.#counts;
  }

  get following(): number {
    return this.#readers.size;
  }

  onEvent(event: DockerEvent): void {
    if (event.type !== "container" || this.#stopped) return;
    const action = event.action.split(":")[0]!.trim();
    if (STARTS.has(action)) this.#follow(event.id);
    // A restart policy may bring a dead container straight back; its start event follows it again.
    else if (STOPS.has(action)) this.#unfollow(event.id);
  }

  /** Follows exactly the running containers, and refreshes the counts. */
  resync(): Promise<void> {
    this.#resyncing ??= this.#resync().finally(() => (this.#resyncing = undefined));
    return this.#resyncing;
  }

  async #resync(): Promise<void> {
    if (this.#stopped) return;
    let containers: Array<{ Id?: string; State?: string }>;
    try {
      containers = (await this.#docker.listContainers({ all: true }, AbortSignal.timeout(15_000))) as typeof containers;
    } catch (error) {
      this.#log.warn("stats resync failed", { error });
      return;
    }
    const running = new Set<string>();
    const counts = { total: containers.length, running: 0, paused: 0, stopped: 0 };
    for (const container of containers) {
      if (container.State === "running") counts.running++;
      else if (container.State === "paused") counts.paused++;
      else counts.stopped++;
      if ((container.State === "running" || container.State === "paused") && container.Id) running.add(container.Id);
    }
    this.#counts = counts;
    for (const id of running) this.#follow(id);
    for (const id of [...this.#readers.keys(), ...this.#samples.keys()]) if (!running.has(id)) this.#unfollow(id);
  }

  #follow(id: string): void {
    if (this.#stopped || this.#readers.has(id)) return;
    const controller = new AbortController();
    const done = this.#read(id, controller).finally(() => {
      if (this.#readers.get(id)?.controller === controller) {
        this.#readers.delete(id);
        this.#samples.delete(id);
      }
    });
    this.#readers.set(id, { controller, done });
  }

  #unfollow(id: string): void {
    this.#readers.get(id)?.controller.abort();
    this.#readers.delete(id);
    this.#samples.delete(id);
  }

  async #read(id: string, controller: AbortController): Promise<void> {
    try {
      for await (const doc of this.#docker.statsStream(id, controller.signal)) {
        if (controller.signal.aborted) return;
        this.#samples.set(id, normalizeStats(doc, id));
      }
    } catch (error) {
      if (!controller.signal.aborted) this.#log.debug("stats stream ended", { container: id, error });
    }
  }
}
