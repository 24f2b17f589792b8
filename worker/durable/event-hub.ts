import { DurableObject } from "cloudflare:workers";
import type { DockerEvent } from "#protocol";
import type { Bindings } from "../env.ts";
import { Subscribers } from "./subscribers.ts";

/** A Docker event as the organization sees it: which host it came from, and an id for SSE. */
export interface HubEvent extends DockerEvent {
  host_id: string;
  host_name: string;
}

/**
 * A host's agent connected (`online`) or went away (`disconnected`, later `lost`), as the HostRelay
 * sees it: the presence that live screens follow instead of reading hosts again and again.
 */
export interface HostPresenceEvent {
  type: "host";
  action: "online" | "disconnected" | "lost";
  host_id: string;
  host_name: string;
  time: number;
}

export type HubMessage = HubEvent | HostPresenceEvent;

/** Docker's event types never include `host`: that type is presence. */
export const isPresence = (event: HubMessage): event is HostPresenceEvent => event.type === "host";

export interface SubscriptionFilter {
  hosts?: string[];
  types?: string[];
  actions?: string[];
  /** Presence events go only to subscribers that ask for them (Docker-shaped streams never do). */
  presence?: boolean;
}

const matches = (filter: SubscriptionFilter, event: HubMessage): boolean =>
  (!isPresence(event) || filter.presence === true) &&
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
  private readonly subscribers = new Subscribers<SubscriptionFilter>(this.ctx);

  override async fetch(request: Request): Promise<Response> {
    return this.subscribers.accept(request, (req) => ({
      attachment: JSON.parse(req.headers.get("x-pier-filter") ?? "{}") as SubscriptionFilter,
    }));
  }

  /** Delivers events to every subscriber whose filter they match; returns how many subscribers got some. */
  async publish(events: HubMessage[]): Promise<number> {
    return this.subscribers.publish((filter) => {
      const selected = events.filter((e) => matches(filter, e));
      return selected.length > 0 ? JSON.stringify(selected) : null;
    });
  }

  async subscriberCount(): Promise<number> {
    return this.subscribers.count();
  }

  override async webSocketMessage(): Promise<void> {
    // Subscribers only listen.
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    Subscribers.closed(ws, code);
  }
}
