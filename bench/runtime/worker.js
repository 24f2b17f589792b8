// The local runtime's own costs, with nothing of Pier's in them (bench/runtime.ts times these):
//   GET /floor      a route that does nothing
//   GET /call       one Durable Object RPC call, as Pier's RateLimiter call on every request
//   GET /roundtrip  one RPC call whose object sends a message over a hibernatable WebSocket and
//                   answers when the client echoes it back: the shape of a relay command
//   GET /connect    the WebSocket the echo client holds (the agent's side)
// `?reply=N` has the echo client answer with N bytes (as an agent's result carries data), and
// `?body=N` has the route answer 200 with N bytes (as an API's JSON), so that sizes match Pier's.
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

  roundTrip(reply) {
    const [socket] = this.ctx.getWebSockets();
    if (!socket) throw new Error("no echo client is connected");
    const id = String(++this.next);
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      socket.send(`${id}:${reply}`);
    });
  }

  webSocketMessage(_socket, message) {
    const id = message.slice(0, message.indexOf(":"));
    const resolve = this.pending.get(id);
    this.pending.delete(id);
    resolve?.(message.length);
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const bytes = Number(url.searchParams.get("body") ?? 0);
    const answer = () => (bytes ? new Response("x".repeat(bytes)) : new Response(null, { status: 204 }));
    const echo = env.ECHO.getByName("bench");
    const { pathname } = url;
    if (pathname === "/floor") return answer();
    if (pathname === "/call") {
      await echo.hit();
      return answer();
    }
    if (pathname === "/roundtrip") {
      await echo.roundTrip(Number(url.searchParams.get("reply") ?? 0));
      return answer();
    }
    if (pathname === "/connect") return echo.fetch(request);
    return new Response("no such route", { status: 404 });
  },
};
