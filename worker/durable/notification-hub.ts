import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../env.ts";
import type { NotificationContent } from "../db/schema-monitoring.ts";
import { Subscribers } from "./subscribers.ts";

/** A notification as pushed live; `cursor` is its SSE `id:`, good for `Last-Event-ID`. */
export interface LiveNotification extends NotificationContent {
  cursor: string;
  id: string;
}

/**
 * One per organization: pushes new notifications to the SSE streams of their recipients. Like
 * EventHub, subscribers are the Worker's SSE handlers on hibernatable WebSockets, so the object
 * sleeps between notifications and the long-lived HTTP streams are the Worker's. Each socket
 * carries its user's id, and a notification goes only to the users it was created for.
 */
export class NotificationHub extends DurableObject<Bindings> {
  private readonly subscribers = new Subscribers<{ userId: string }>(this.ctx);

  override async fetch(request: Request): Promise<Response> {
    return this.subscribers.accept(request, (req) => {
      const userId = req.headers.get("x-pier-user");
      if (!userId) return new Response("missing x-pier-user: the Worker authenticates the subscriber first", { status: 400 });
      return { attachment: { userId } };
    });
  }

  /** Sends `notification` to every open stream of `userIds`; returns how many streams got it. */
  async publish(userIds: string[], notification: LiveNotification): Promise<number> {
    const recipients = new Set(userIds);
    const frame = JSON.stringify(notification);
    return this.subscribers.publish(({ userId }) => (recipients.has(userId) ? frame : null));
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
