import type { SSEStreamingApi } from "hono/streaming";
import { ApiError } from "../errors.ts";
import { errorLogFields } from "../db/errors.ts";

/**
 * The Worker's side of a hub subscription: subscribe to a Durable Object that fans out over
 * hibernatable WebSockets (worker/durable/subscribers.ts) and re-emit what it sends as SSE. The
 * Worker holds the long-lived HTTP stream, never the object (see DESIGN.md). Used by the event,
 * notification and deployment-log streams of every surface.
 */

/** The SSE comment sent first, once the subscription is live: nothing published after it is missed. */
export const READY_FRAME = ": ready\n\n";
const KEEPALIVE_MS = 15_000;

interface HubStub {
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

/**
 * Subscribes to `hub`, passing what it needs to admit the subscriber in `headers`. Once this
 * resolves the hub delivers to the socket; the socket is not accepted yet, so frames wait in it
 * until `relayHubAsSse` listens. Subscribe before the SSE response starts, so that a failure is
 * an error response rather than a stream that ends at once.
 */
export async function subscribeHub(hub: HubStub, headers: Record<string, string>, what: string): Promise<WebSocket> {
  const res = await hub.fetch("https://hub/subscribe", { headers: { upgrade: "websocket", ...headers } });
  const ws = res.webSocket;
  if (!ws) throw new ApiError(502, `Could not subscribe to the ${what} (${res.status}: ${await res.text().catch(() => "")}).`);
  return ws;
}

/** The stream being relayed, as handed to the hooks. */
export interface HubStream {
  /** Runs `work` after everything queued before it: frames go out in the order they were queued. */
  enqueue(work: () => Promise<unknown>): void;
  /** Ends the stream now: queued work not yet started is dropped. */
  end(): void;
}

export interface RelayOptions<M> {
  /** Runs right after the ready frame, before any live message (a replay of stored items). */
  replay?: (stream: HubStream) => Promise<void>;
  /** One message from the hub, in order, after the replay. */
  onMessage: (message: M, stream: HubStream) => Promise<void>;
  /** The hub closed the subscription; by default the stream ends once queued frames are out. */
  onHubClosed?: (stream: HubStream) => void;
  /** A backstop that runs every `everyMs` (in the queue, like everything else). */
  poll?: { everyMs: number; run: (stream: HubStream) => Promise<void> };
  /** Sent with the ready frame as `retry:`: how soon EventSource comes back if the stream drops. */
  retryMs?: number;
}

/**
 * Relays `socket` (from `subscribeHub`, or null when there is nothing live to follow) into `sse`
 * until the client goes away, the hub closes it, or a hook ends it. Frames are written one at a
 * time in order; a keepalive comment every 15 s keeps proxies from timing the stream out and
 * tells, by failing, that the client has gone.
 */
export async function relayHubAsSse<M>(sse: SSEStreamingApi, socket: WebSocket | null, options: RelayOptions<M>): Promise<void> {
  let ended = false;
  let queue: Promise<unknown> = Promise.resolve();
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const timers: Array<ReturnType<typeof setInterval>> = [];

  const stream: HubStream = {
    enqueue(work) {
      queue = queue
        .then(() => (ended ? undefined : work()))
        .then(undefined, (err: unknown) => {
          // A write that fails means the client went away; anything else is a bug worth a line.
          if (!sse.aborted && !sse.closed)
            console.error(JSON.stringify({ level: "error", msg: "hub stream: relay failed", ...errorLogFields(err) }));
          stream.end();
        });
    },
    end() {
      if (ended) return;
      ended = true;
      for (const timer of timers) clearInterval(timer);
      try {
        socket?.close(1000, "stream ended");
      } catch {
        // already closed
      }
      resolveDone();
    },
  };

  sse.onAbort(() => stream.end());
  // Queued before the socket is accepted, so every live message comes after the ready frame and
  // the replay (each hook skips what the replay already sent).
  stream.enqueue(() => sse.write(`${options.retryMs ? `retry: ${options.retryMs}\n` : ""}${READY_FRAME}`));
  if (options.replay) stream.enqueue(() => options.replay!(stream));
  if (socket) {
    socket.addEventListener("message", (event) => {
      const text = typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data);
      const message = JSON.parse(text) as M;
      stream.enqueue(() => options.onMessage(message, stream));
    });
    const hubClosed = () => (options.onHubClosed ? options.onHubClosed(stream) : stream.enqueue(async () => stream.end()));
    socket.addEventListener("close", hubClosed);
    socket.addEventListener("error", hubClosed);
    socket.accept();
  }
  timers.push(setInterval(() => stream.enqueue(() => sse.write(": keepalive\n\n")), KEEPALIVE_MS));
  if (options.poll) {
    const { everyMs, run } = options.poll;
    timers.push(setInterval(() => stream.enqueue(() => run(stream)), everyMs));
  }
  await done;
}
