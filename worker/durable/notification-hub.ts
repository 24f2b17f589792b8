import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../env.ts";
import type { Severity } from "../db/schema-monitoring.ts";

/** A notification as pushed live; `cursor` is its SSE `id:`, good for `Last-Event-ID`. */
export interface LiveNotification {
  cursor: string;
  id: string;
  kind: string;
  severity: Severity;
  title: string;
  message: string;
  target_type: string | null;
  target_id: string | null;
  data: Record<string, unknown> | null;
  created_at: string;
}

interface SubscriberAttachment {
  userId: string;
}

const SUBSCRIBER_TAG = "subscriber";

/**
 * One per organization: pushes new notifications to the SSE streams of their recipients. Like
 * EventHub, subscribers are the Worker's SSE handlers on hibernatable WebSockets, so the object
 * sleeps between notifications and the long-lived HTTP streams are the Worker's. Each socket
 * carries its user's id, and a notification goes only to the users it was created for.
 */
export class NotificationHub extends DurableObject<Bindings> {
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const userId = request.headers.get("x-pier-user");
    if (!userId) return new Response("missing x-pier-user: the Worker authenticates the subscriber first", { status: 400 });
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [SUBSCRIBER_TAG]);
    server.serializeAttachment({ userId } satisfies SubscriberAttachment);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Sends `notification` to every open stream of `userIds`; returns how many streams got it. */
  async publish(userIds: string[], notification: LiveNotification): Promise<number> {
    const recipients = new Set(userIds);
    const frame = JSON.stringify(notification);
    let delivered = 0;
    for (const socket of this.ctx.getWebSockets(SUBSCRIBER_TAG)) {
      const { userId } = socket.deserializeAttachment() as SubscriberAttachment;
      if (!recipients.has(userId)) continue;
      try {
        socket.send(frame);
        delivered++;
      } catch {
        // a stream that went away; its close handler cleans up
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
