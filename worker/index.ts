import { createApp } from "./app.ts";
import type { Bindings } from "./env.ts";

export { EventHub } from "./durable/event-hub.ts";
export { HostRelay } from "./durable/host-relay.ts";
export { RateLimiter } from "./durable/rate-limiter.ts";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Bindings>;
