// The one Server-Sent Events reader of the test suites, on `eventsource-parser` (the parser the
// `eventsource` client uses). Runs in Node and in workerd alike.
import { createParser } from "eventsource-parser";

export interface SseEvent {
  /** `message` when the frame names none, as in the browser's EventSource. */
  event: string;
  id?: string;
  /** The JSON of `data:`, or its text when it is not JSON. */
  data: any;
}

const isReady = (e: SseEvent) => e.event === "ready";

/**
 * Reads one SSE response frame by frame. The server's first frame says the subscription is live
 * (an `event: ready` frame, or a `: ready` comment, which is reported as a `ready` event): wait
 * for it with `ready()` before causing what the test expects to see, so nothing can be missed.
 */
export class SseStream {
  /** Every event read so far, the `ready` frame included. */
  readonly seen: SseEvent[] = [];
  readonly #reader: ReadableStreamDefaultReader<string>;
  readonly #pending: SseEvent[] = [];
  readonly #parser = createParser({
    onEvent: (m) => this.#pending.push({ event: m.event ?? "message", id: m.id, data: parseData(m.data) }),
    onComment: (comment) => {
      if (comment.trim() === "ready") this.#pending.push({ event: "ready", data: "" });
    },
  });
  #done = false;

  constructor(res: Response) {
    if (!res.body) throw new Error(`SSE: the response (${res.status}) has no body`);
    this.#reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next event, or undefined once the stream has ended. */
  async next(): Promise<SseEvent | undefined> {
    while (this.#pending.length === 0 && !this.#done) {
      const { value, done } = await this.#reader.read();
      if (done) this.#done = true;
      else this.#parser.feed(value);
    }
    const event = this.#pending.shift();
    if (event) this.seen.push(event);
    return event;
  }

  /**
   * Reads until `match` accepts an event and returns the events read by this call (the match
   * last); if the stream ends first, returns what it read.
   */
  async until(match: (event: SseEvent) => boolean): Promise<SseEvent[]> {
    const read: SseEvent[] = [];
    for (;;) {
      const event = await this.next();
      if (!event) return read;
      read.push(event);
      if (match(event)) return read;
    }
  }

  /** The next `count` events, the `ready` frame left out; fewer if the stream ends first. */
  async take(count: number): Promise<SseEvent[]> {
    const taken: SseEvent[] = [];
    while (taken.length < count) {
      const event = await this.next();
      if (!event) break;
      if (!isReady(event)) taken.push(event);
    }
    return taken;
  }

  /** Waits for the frame that says the subscription is live; fails if the stream ends without it. */
  async ready(): Promise<void> {
    if (this.seen.some(isReady)) return;
    const read = await this.until(isReady);
    if (!read.some(isReady)) throw new Error("SSE: the stream ended before its ready frame");
  }

  async close(): Promise<void> {
    this.#done = true;
    await this.#reader.cancel().catch(() => undefined);
  }
}

function parseData(data: string): any {
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

/**
 * Reads a whole SSE response until `match` accepts an event (the match last), then closes it.
 * `timeoutMs` only guards against a stream that never ends: the events read so far are returned
 * for the test's assertions to judge. The `ready` frame is not among them.
 */
export async function readSse(res: Response, match: (event: SseEvent) => boolean, timeoutMs = 30_000): Promise<SseEvent[]> {
  const stream = new SseStream(res);
  const timer = setTimeout(() => void stream.close(), timeoutMs);
  try {
    return (await stream.until((e) => !isReady(e) && match(e))).filter((e) => !isReady(e));
  } finally {
    clearTimeout(timer);
    await stream.close();
  }
}
