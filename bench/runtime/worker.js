// The local runtime's own costs, with nothing of Pier's in them (bench/runtime.ts times these):
//   GET /floor      a route that does nothing
//   GET /call       one Durable Object RPC call, as Pier's RateLimiter call on every request
//   GET /roundtrip  one RPC call whose object sends a message over a hibernatable WebSocket and
//                   answers when the client echoes it back: the shape of a relay command
//   GET /connect    the WebSocket the echo client holds (the agent's side)
// Every answer is a 204 without a body, like the floor Pier's own figures are measured against.
import { DurableObject } from "cloudflare:workers";

export class Echo extends DurableObject {
  pending = new Map();
  next = 0;

  fetch() {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  hit() {
    return ++this.next;
  }

  roundTrip() {
    const [socket] = this.ctx.getWebSockets();
    if (!socket) throw new Error("no echo client is connected");
    const id = String(++this.next);
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      socket.send(id);
    });
  }

  webSocketMessage(_socket, id) {
    const resolve = this.pending.get(id);
    this.pending.delete(id);
    resolve?.();
  }
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    const echo = env.ECHO.getByName("bench");
    const done = () => new Response(null, { status: 204 });
    if (pathname === "/floor") return done();
    if (pathname === "/call") {
      await echo.hit();
      return done();
    }
    if (pathname === "/roundtrip") {
      await echo.roundTrip();
      return done();
    }
    if (pathname === "/connect") return echo.fetch(request);
    return new Response("no such route", { status: 404 });
  },
};
