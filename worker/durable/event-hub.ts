import { DurableObject } from "cloudflare:workers";
import type { DockerEvent } from "#protocol";
import type { Bindings } from "../env.ts";

/** A Docker event as the organization sees it: which host it came from, and an id for SSE. */
export interface HubEvent extends DockerEvent {
  host_id: string;
  host_name: string;
}

export interface SubscriptionFilter {
  hosts?: string[];
  types?: string[];
  actions?: string[];
}

interface SubscriberAttachment {
  filter: SubscriptionFilter;
}

const SUBSCRIBER_TAG = "subscriber";

const matches = (filter: SubscriptionFilter, event: HubEvent): boolean =>
  (!filter.hosts?.length || filter.hosts.includes(event.host_id) || filter.hosts.includes(event.host_name)) &&
  (!filter.types?.length || filter.types.includes(event.type)) &&
  (!filter.actions?.length || filter.actions.some((a) => event.action === a || event.action.startsWith(`${a}:`)));

/**
 * One per organization: fans events out to that organization's live subscribers. Being keyed by
 * organization, no subscriber can ever be handed another organization's events.
 *
 * Subscribers are the Worker's SSE handlers, connected over hibernatable WebSockets, so an idle
 * hub costs nothing; the long-lived HTTP streams are held by the Worker, not by this object.
 */
export class EventHub extends DurableObject<Bindings> {
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const filter = JSON.parse(request.headers.get("x-pier-filter") ?? "{}") as SubscriptionFilter;
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [SUBSCRIBER_TAG]);
    server.serializeAttachment({ filter } satisfies SubscriberAttachment);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Delivers events to every subscriber whose filter they match; returns how many deliveries. */
  async publish(events: HubEvent[]): Promise<number> {
    let delivered = 0;
    for (const socket of this.ctx.getWebSockets(SUBSCRIBER_TAG)) {
      const { filter } = socket.deserializeAttachment() as SubscriberAttachment;
      const selected = events.filter((e) => matches(filter, e));
      if (selected.length === 0) continue;
      try {
        socket.send(JSON.stringify(selected));
        delivered += selected.length;
      } catch {
        // a subscriber that went away; its close handler cleans up
      }
    }
    return delivered;
  }

  async subscriberCount(): Promise<number> {
    return this.ctx.getWebSockets(SUBSCRIBER_TAG).length;
  }

  override async webSocketMessage(): Promise<void> {
    // Subscribers only listen.
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 ? 1000 : code, "bye");
    } catch {
      // already closed
    }
  }
}
