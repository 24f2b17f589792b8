import type { SSEStreamingApi } from "hono/streaming";
import { type HostPresenceEvent, type HubEvent, type HubMessage, isPresence, type SubscriptionFilter } from "../durable/event-hub.ts";
import type { Bindings } from "../env.ts";
import { relayHubAsSse, subscribeHub } from "./hub-subscription.ts";

/**
 * Subscribes to an organization's EventHub and writes each Docker event to an SSE stream with
 * `write` (each surface renders its own frame), after a `: ready` comment, until the client goes
 * away. With `onPresence`, hosts connecting and going away are written too (the filter's hosts
 * apply to them; its types take `host` for them). `onLive` runs once the subscription is live,
 * before any event: a surface may say so in a frame its clients can see (EventSource never sees
 * the `: ready` comment).
 */
export async function pipeEvents(
  env: Bindings,
  organizationId: string,
  filter: SubscriptionFilter,
  sse: SSEStreamingApi,
  write: (event: HubEvent) => Promise<void>,
  onPresence?: (event: HostPresenceEvent) => Promise<void>,
  onLive?: () => Promise<void>,
): Promise<void> {
  const hub = env.EVENT_HUB.getByName(organizationId);
  const subscription: SubscriptionFilter = { ...filter, presence: onPresence !== undefined };
  const socket = await subscribeHub(hub, { "x-pier-filter": JSON.stringify(subscription) }, "event hub");
  await relayHubAsSse<HubMessage[]>(sse, socket, {
    ...(onLive ? { replay: () => onLive() } : {}),
    onMessage: async (events) => {
      for (const event of events) {
        if (!isPresence(event)) await write(event);
        else if (onPresence) await onPresence(event);
      }
    },
  });
}
