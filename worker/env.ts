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
  /** npm spec the printed agent install commands use (a tarball, folder or URL; development). */
  PIER_AGENT_PACKAGE?: string;
  LIBSQL_URL: string;
  LIBSQL_AUTH_TOKEN?: string;
  JWT_SECRET: string;
  ENCRYPTION_KEY: string;
  RATE_LIMITER: DurableObjectNamespace<import("./durable/rate-limiter.ts").RateLimiter>;
  /** Sign-in throttling: one per login target and one per client address. */
  LOGIN_GUARD: DurableObjectNamespace<import("./durable/login-guard.ts").LoginGuard>;
  PIER_LOGIN_FREE_FAILURES?: string;
  PIER_LOGIN_FREE_FAILURES_PER_ADDRESS?: string;
  PIER_LOGIN_LOCKOUT_SECONDS?: string;
  /** Lifetime of a DevFlow personal token from `POST /api/login`, in days (default 30). */
  PIER_DEVFLOW_TOKEN_TTL_DAYS?: string;
  HOST_RELAY: DurableObjectNamespace<import("./durable/host-relay.ts").HostRelay>;
  EVENT_HUB: DurableObjectNamespace<import("./durable/event-hub.ts").EventHub>;
  // Deployments (issue 4): one queue per application.
  DEPLOY_QUEUE: DurableObjectNamespace<import("./durable/deploy-queue.ts").DeployQueue>;
  // Image pulls and bulk container actions: one runner per task.
  TASK_RUNNER: DurableObjectNamespace<import("./durable/task-runner.ts").TaskRunner>;
  /** Successful deployments per application whose images are kept for rollback (default 5). */
  PIER_KEEP_DEPLOYMENT_IMAGES?: string;
  /** Webhook deliveries allowed per application and minute (default 30). */
  PIER_WEBHOOK_RATE_LIMIT_PER_MINUTE?: string;
  // Notifications and monitoring (issue 5).
  NOTIFICATION_HUB: DurableObjectNamespace<import("./durable/notification-hub.ts").NotificationHub>;
  CHANNEL_DISPATCHER: DurableObjectNamespace<import("./durable/channel-dispatcher.ts").ChannelDispatcher>;
  /** "true" lets notification channels point at loopback/private addresses (local testing only). */
  PIER_ALLOW_PRIVATE_URLS?: string;
  /** Channel delivery retries: first backoff, cap, and attempts before a delivery is failed. */
  PIER_NOTIFY_RETRY_BASE_MS?: string;
  PIER_NOTIFY_RETRY_MAX_MS?: string;
  PIER_NOTIFY_MAX_ATTEMPTS?: string;
  /** How long a host must stay disconnected before it is announced (default 60 s). */
  PIER_HOST_DISCONNECT_NOTICE_MS?: string;
}

/** Per-request values set by middleware and read with `c.get`. */
export interface Variables {
  requestId: string;
  db: Database;
  /** Forgets cached principals: see services/credential-cache.ts. */
  credentials: import("./services/credential-cache.ts").CredentialCache;
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
