import type { Database } from "./db/client.ts";
import type { Principal } from "./services/principal.ts";

/** Bindings from wrangler.toml ([vars], secrets, Durable Objects). */
export interface Bindings {
  PIER_VERSION: string;
  PIER_OPEN_REGISTRATION?: string;
  PIER_RATE_LIMIT_PER_MINUTE?: string;
  PIER_CORS_ORIGINS?: string;
  ACCESS_TOKEN_TTL_SECONDS?: string;
  REFRESH_TOKEN_TTL_SECONDS?: string;
  /** The URL agents and webhooks should use when it differs from the request origin (a proxy). */
  PIER_PUBLIC_URL?: string;
  LIBSQL_URL: string;
  LIBSQL_AUTH_TOKEN?: string;
  JWT_SECRET: string;
  ENCRYPTION_KEY: string;
  RATE_LIMITER: DurableObjectNamespace<import("./durable/rate-limiter.ts").RateLimiter>;
  HOST_RELAY: DurableObjectNamespace<import("./durable/host-relay.ts").HostRelay>;
  EVENT_HUB: DurableObjectNamespace<import("./durable/event-hub.ts").EventHub>;
}

/** Per-request values set by middleware and read with `c.get`. */
export interface Variables {
  requestId: string;
  db: Database;
  principal: Principal;
}

export type AppEnv = { Bindings: Bindings; Variables: Variables };

declare global {
  namespace Cloudflare {
    // `env` from "cloudflare:test" and "cloudflare:workers" is this Worker's bindings.
    interface Env extends Bindings {
      FRESH_LIBSQL_URL?: string;
    }
  }
}
