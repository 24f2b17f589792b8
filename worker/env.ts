import type { Database } from "./db/client.ts";
import type { Principal } from "./services/principal.ts";

// `Cloudflare.Env` is generated from wrangler.toml by `npm run types` (worker/worker-configuration.d.ts:
// [vars] and Durable Object bindings; `npm run typecheck` fails when it is stale). Below are only the
// bindings wrangler.toml cannot declare: secrets and the optional PIER_* settings read by settings.ts.
declare global {
  namespace Cloudflare {
    interface Env {
      /** Set by `npm start` only: its loopback control for the one-click local host (lib/local-agent.ts). */
      PIER_LOCAL_AGENT_CONTROL?: string;
      LIBSQL_URL: string;
      LIBSQL_AUTH_TOKEN?: string;
      JWT_SECRET: string;
      ENCRYPTION_KEY: string;
      /** The URL agents and webhooks should use when it differs from the request origin (a proxy). */
      PIER_PUBLIC_URL?: string;
      /** npm spec the printed agent install commands use (a tarball, folder or URL; development). */
      PIER_AGENT_PACKAGE?: string;
      PIER_LOGIN_FREE_FAILURES?: string;
      PIER_LOGIN_FREE_FAILURES_PER_ADDRESS?: string;
      PIER_LOGIN_LOCKOUT_SECONDS?: string;
      /** Lifetime of a DevFlow personal token from `POST /api/login`, in days (default 30). */
      PIER_DEVFLOW_TOKEN_TTL_DAYS?: string;
      /** Successful deployments per application whose images are kept for rollback (default 5). */
      PIER_KEEP_DEPLOYMENT_IMAGES?: string;
      /** The directory on hosts that DevFlow's `images/save` may write into (default /backups). */
      PIER_BACKUPS_DIR?: string;
      /** Largest tar accepted by image loads and container file uploads, in bytes (default 10 GiB). */
      PIER_MAX_UPLOAD_BYTES?: string;
      /** Requests a minute for a dashboard (cookie) session (default 10 × PIER_RATE_LIMIT_PER_MINUTE). */
      PIER_BROWSER_RATE_LIMIT_PER_MINUTE?: string;
      /** Webhook deliveries allowed per application and minute (default 30). */
      PIER_WEBHOOK_RATE_LIMIT_PER_MINUTE?: string;
      /** "true" lets notification channels point at loopback/private addresses (local testing only). */
      PIER_ALLOW_PRIVATE_URLS?: string;
      /** Channel delivery retries: first backoff, cap, and attempts before a delivery is failed. */
      PIER_NOTIFY_RETRY_BASE_MS?: string;
      PIER_NOTIFY_RETRY_MAX_MS?: string;
      PIER_NOTIFY_MAX_ATTEMPTS?: string;
      /** How long a host must stay disconnected before it is announced (default 60 s). */
      PIER_HOST_DISCONNECT_NOTICE_MS?: string;
      /** How long a host stays disconnected before it counts as lost (default 5 min). */
      PIER_HOST_LOST_AFTER_MS?: string;
      /** How long the HostRelay waits for the agent's ack of a command (default 5 s). */
      PIER_AGENT_ACK_TIMEOUT_MS?: string;
      /** Seconds without a byte either way after which a terminal closes (default 900). */
      PIER_TERMINAL_IDLE_TIMEOUT_SECONDS?: string;
      /** Tests only: a libSQL URL with an empty database (vitest.config.ts). */
      FRESH_LIBSQL_URL?: string;
      FIRST_RUN_LIBSQL_URL?: string;
      /** Tests only: the s3rver the worker tests' global setup starts. */
      TEST_S3_ENDPOINT?: string;
      TEST_S3_DROPPING_ENDPOINT?: string;
    }
  }
}

/** The Worker's bindings: wrangler.toml's (generated) plus the secrets and settings above. */
export type Bindings = Cloudflare.Env;

/** Per-request values set by middleware and read with `c.get`. */
export interface Variables {
  requestId: string;
  db: Database;
  /** Forgets cached principals: see services/credential-cache.ts. */
  credentials: import("./services/credential-cache.ts").CredentialCache;
  principal: Principal;
  /** Why a request's session cookie did not authenticate it (ended, expired): what a protected route answers. */
  credentialProblem?: import("./errors.ts").ApiError;
}

export type AppEnv = { Bindings: Bindings; Variables: Variables };
