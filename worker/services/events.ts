import type { SSEStreamingApi } from "hono/streaming";
import type { HubEvent, SubscriptionFilter } from "../durable/event-hub.ts";
import type { Bindings } from "../env.ts";
import { ApiError } from "../errors.ts";

const KEEPALIVE_MS = 15_000;

/**
 * Subscribes to an organization's EventHub over a hibernatable WebSocket and writes each event to
 * an SSE stream with `write`, until the client goes away. The Worker holds the long-lived HTTP
 * stream, not the Durable Object (see DESIGN.md).
 */
export async function pipeEvents(
  env: Bindings,
  organizationId: string,
  filter: SubscriptionFilter,
  sse: SSEStreamingApi,
  write: (event: HubEvent) => Promise<void>,
): Promise<void> {
  const hub = env.EVENT_HUB.get(env.EVENT_HUB.idFromName(organizationId));
  const res = await hub.fetch("https://event-hub/subscribe", {
    headers: { upgrade: "websocket", "x-pier-filter": JSON.stringify(filter) },
  });
  const ws = res.webSocket;
  if (!ws) throw new ApiError(502, "Could not subscribe to the event hub.");
  ws.accept();

  let closed = false;
  let queue = Promise.resolve();
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepalive);
    try {
      ws.close(1000, "client gone");
    } catch {
      // already closed
    }
  };
  // A comment line every few seconds keeps proxies from timing the stream out and tells us,
  // by failing, when the client has gone.
  const keepalive = setInterval(() => {
    queue = queue.then(() => sse.write(": keepalive\n\n")).then(undefined, finish);
  }, KEEPALIVE_MS);
  sse.onAbort(finish);

  await new Promise<void>((resolve) => {
    ws.addEventListener("message", (message) => {
      const events = JSON.parse(typeof message.data === "string" ? message.data : new TextDecoder().decode(message.data)) as HubEvent[];
      for (const event of events) queue = queue.then(() => write(event)).then(undefined, finish);
    });
    ws.addEventListener("close", () => {
      finish();
      resolve();
    });
    ws.addEventListener("error", () => {
      finish();
      resolve();
    });
    sse.onAbort(() => resolve());
  });
}
