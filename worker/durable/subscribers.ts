/**
 * The one fan-out of the Durable Objects that push to live streams (EventHub, NotificationHub,
 * DeployQueue's followers). Subscribers are the Worker's SSE handlers, connected over hibernatable
 * WebSockets: an idle object sleeps, and the long-lived HTTP streams are the Worker's (an HTTP
 * stream held by the object would keep it awake and billed). The Worker authenticates and
 * authorizes before it subscribes; the object trusts the headers it sends.
 *
 * Each socket carries its subscriber's attachment (a filter, a user, a deployment) in
 * `serializeAttachment`, so it survives hibernation. The Worker's side is
 * worker/services/hub-subscription.ts.
 */

/** What `admit` answers: the subscriber's attachment and any extra tags to address it by, or a refusal. */
export type Admission<A> = { attachment: A; tags?: string[] } | Response;

export class Subscribers<A> {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly tag = "subscriber",
  ) {}

  /** Accepts a subscription upgrade from the Worker, or refuses it with what `admit` answers. */
  accept(request: Request, admit: (request: Request) => Admission<A>): Response {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade (subscribe through worker/services/hub-subscription.ts)", { status: 426 });
    }
    const admission = admit(request);
    if (admission instanceof Response) return admission;
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [this.tag, ...(admission.tags ?? [])]);
    server.serializeAttachment(admission.attachment);
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Sends each subscriber (of `options.tag`, by default all) the frame `frameFor` makes from its
   * attachment; `null` skips it. With `close`, the sockets are closed after the frame (the stream
   * is over). Returns how many subscribers were sent a frame.
   */
  publish(frameFor: (attachment: A) => string | null, options: { tag?: string; close?: string } = {}): number {
    let sent = 0;
    for (const socket of this.ctx.getWebSockets(options.tag ?? this.tag)) {
      const frame = frameFor(socket.deserializeAttachment() as A);
      try {
        if (frame !== null) {
          socket.send(frame);
          sent++;
        }
        if (options.close) socket.close(1000, options.close);
      } catch {
        // A subscriber that went away; its close handler cleans up.
      }
    }
    return sent;
  }

  count(tag = this.tag): number {
    return this.ctx.getWebSockets(tag).length;
  }

  /** For the object's `webSocketClose`: completes the close handshake the Worker started. */
  static closed(ws: WebSocket, code: number): void {
    try {
      // 1005 ("no status") may not be sent back; answer a normal close instead.
      ws.close(code === 1005 ? 1000 : code, "bye");
    } catch {
      // already closed
    }
  }
}
