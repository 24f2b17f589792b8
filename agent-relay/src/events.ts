import { backoffDelay } from "./backoff.ts";
import { withDefaults } from "./defaults.ts";
import type { DockerClient } from "./docker/client.ts";
import type { Logger } from "./log.ts";
import { EVENT_TYPES, normalizeEvent, type DockerEvent } from "./protocol.ts";

export interface EventForwarderOptions {
  /** Sends one batch; false when the socket is down (the batch is kept for the next try). */
  send(events: DockerEvent[]): boolean;
  /** Sees every event as it arrives (the stats cache follows starts and deaths with it). */
  observe?(event: DockerEvent): void;
  /**
   * The coalescing window: an event after a quiet spell leaves at once and opens the window; what
   * follows within it leaves as one batch when it ends (or sooner when full), and so on while
   * events keep coming. At most one batch per window, besides full ones.
   */
  flushMs?: number;
  batchMax?: number;
  /** Events kept while disconnected; beyond it the oldest are dropped (and counted). */
  bufferMax?: number;
}

const RESUBSCRIBE = { baseMs: 500, capMs: 15_000 };
const SEEN_KEYS = 512;

/**
 * Follows the engine's `/events` feed and forwards it in batches: every WebSocket message wakes
 * the Durable Object and is billed, so a burst of events (a compose project starting) travels as
 * few messages. The batching is leading-edge: a lone event is not held for the window (a
 * subscriber sees a container stop as soon as the agent does), only what follows it within the
 * window is. When the feed breaks it is resumed with `since`, and replayed events are dropped.
 */
export class EventForwarder {
  readonly #docker: DockerClient;
  readonly #log: Logger;
  readonly #o: Required<Omit<EventForwarderOptions, "observe">> & Pick<EventForwarderOptions, "observe">;
  readonly #queue: DockerEvent[] = [];
  readonly #seen: string[] = [];
  readonly #controller = new AbortController();
  /** Set while a coalescing window is open (a batch left less than `flushMs` ago). */
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastTime: string | undefined;
  #dropped = 0;
  #loop: Promise<void> | undefined;
  /** Resolves once the feed is subscribed (tests wait on it before making events happen). */
  subscribed: Promise<void>;
  #markSubscribed!: () => void;

  constructor(docker: DockerClient, log: Logger, options: EventForwarderOptions) {
    this.#docker = docker;
    this.#log = log;
    this.#o = withDefaults({ flushMs: 250, batchMax: 100, bufferMax: 1_000 }, options);
    this.subscribed = new Promise((resolve) => (this.#markSubscribed = resolve));
  }

  get buffered(): number {
    return this.#queue.length;
  }

  start(): void {
    this.#loop ??= this.#follow();
  }

  async stop(): Promise<void> {
    this.#controller.abort();
    clearTimeout(this.#timer);
    await this.#loop;
  }

  /** Sends what is queued (also called when the socket comes back). */
  flush(): void {
    let sent = false;
    while (this.#queue.length > 0) {
      const batch = this.#queue.slice(0, this.#o.batchMax);
      if (!this.#o.send(batch)) return;
      this.#queue.splice(0, batch.length);
      sent = true;
    }
    if (this.#dropped > 0) {
      this.#log.warn("docker events dropped while disconnected", { dropped: this.#dropped });
      this.#dropped = 0;
    }
    if (sent) this.#timer ??= setTimeout(() => this.#windowEnded(), this.#o.flushMs);
  }

  #windowEnded(): void {
    this.#timer = undefined;
    // What arrived during the window leaves now and opens the next one; nothing: quiet again.
    if (this.#queue.length > 0) this.flush();
  }

  async #follow(): Promise<void> {
    const signal = this.#controller.signal;
    let attempt = 0;
    while (!signal.aborted) {
      try {
        const feed = await this.#docker.events({ since: this.#lastTime, types: EVENT_TYPES }, signal);
        this.#markSubscribed();
        attempt = 0;
        for await (const raw of feed) this.#accept(raw);
        this.#log.warn("docker event feed ended; resubscribing");
      } catch (error) {
        if (signal.aborted) return;
        this.#log.warn("docker event feed failed; resubscribing", { error, attempt });
      }
      await sleep(backoffDelay(attempt++, RESUBSCRIBE), signal);
    }
  }

  #accept(raw: Record<string, unknown>): void {
    const event = normalizeEvent(raw);
    if (!event) return;
    const key = `${String(raw.timeNano ?? raw.time)}|${event.type}|${event.id}|${event.action}`;
    if (this.#seen.includes(key)) return;
    this.#seen.push(key);
    if (this.#seen.length > SEEN_KEYS) this.#seen.shift();
    if (typeof raw.time === "number") this.#lastTime = String(raw.time);

    this.#o.observe?.(event);
    this.#queue.push(event);
    if (this.#queue.length > this.#o.bufferMax) {
      this.#queue.shift();
      this.#dropped++;
    }
    if (this.#timer === undefined || this.#queue.length >= this.#o.batchMax) this.flush();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
