import type { SSEStreamingApi } from "hono/streaming";
import type { HubEvent, SubscriptionFilter } from "../durable/event-hub.ts";
import type { Bindings } from "../env.ts";
import { relayHubAsSse, subscribeHub } from "./hub-subscription.ts";

/**
 * Subscribes to an organization's EventHub and writes each event to an SSE stream with `write`
 * (each surface renders its own frame), after a `: ready` comment, until the client goes away.
 */
export async function pipeEvents(
  env: Bindings,
  organizationId: string,
  filter: SubscriptionFilter,
  sse: SSEStreamingApi,
  write: (event: HubEvent) => Promise<void>,
): Promise<void> {
  const hub = env.EVENT_HUB.getByName(organizationId);
  const socket = await subscribeHub(hub, { "x-pier-filter": JSON.stringify(filter) }, "event hub");
  await relayHubAsSse<HubEvent[]>(sse, socket, {
    onMessage: async (events) => {
      for (const event of events) await write(event);
    },
  });
}
