import { TERMINAL_IDLE_TIMEOUT_MS } from "#protocol";
import type { Bindings } from "./env.ts";
import { DISCONNECT_NOTICE_MS, LOST_AFTER_MS } from "./lib/presence.ts";
import type { AuthSettings } from "./services/accounts.ts";
import type { LoginThrottleSettings } from "./services/login-throttle.ts";

// Every PIER_* variable (and the token lifetimes) is read here and nowhere else: one place says
// what can be configured, what it defaults to, and how a bad value is treated (as unset).
// PIER_VERSION is not a setting (wrangler.toml fixes it per release) and is read where it is shown.

const int = (value: string | undefined, fallback: number): number => {
  const n = Number.parseInt(value ?? "", 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
};

/** Like `int`, but 0 is a meaningful setting (announce at once). */
const nonNegativeInt = (value: string | undefined, fallback: number): number => {
  const n = Number.parseInt(value ?? "", 10);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
};

export const authSettings = (env: Bindings): AuthSettings => ({
  jwtSecret: env.JWT_SECRET,
  accessTtlSeconds: int(env.ACCESS_TOKEN_TTL_SECONDS, 900),
  refreshTtlSeconds: int(env.REFRESH_TOKEN_TTL_SECONDS, 30 * 24 * 3600),
  openRegistration: env.PIER_OPEN_REGISTRATION === "true",
});

/**
 * Sign-in throttling: after PIER_LOGIN_FREE_FAILURES failures (default 5) an account is locked
 * for PIER_LOGIN_LOCKOUT_SECONDS (default 30), doubling with each further failure up to 15
 * minutes; a client address gets PIER_LOGIN_FREE_FAILURES_PER_ADDRESS (default 20) across all
 * accounts. Failures are forgotten after an hour without one.
 */
export const loginThrottleSettings = (env: Bindings): LoginThrottleSettings => {
  const base = {
    baseMs: int(env.PIER_LOGIN_LOCKOUT_SECONDS, 30) * 1000,
    maxMs: 15 * 60_000,
    forgetAfterMs: 60 * 60_000,
  };
  return {
    account: { ...base, freeFailures: int(env.PIER_LOGIN_FREE_FAILURES, 5) },
    address: { ...base, freeFailures: int(env.PIER_LOGIN_FREE_FAILURES_PER_ADDRESS, 20) },
  };
};

/** How long a DevFlow personal token (`POST /api/login`) lives: PIER_DEVFLOW_TOKEN_TTL_DAYS, default 30. */
export const devflowTokenTtlSeconds = (env: Bindings): number => int(env.PIER_DEVFLOW_TOKEN_TTL_DAYS, 30) * 24 * 3600;

export const rateLimitPerMinute = (env: Bindings): number => int(env.PIER_RATE_LIMIT_PER_MINUTE, 60);

/**
 * Requests a minute for a dashboard session (the `pier_session` cookie). One open page polls a
 * container's stats every 2 s and each screen issues several queries, so a person browsing spends
 * the per-credential budget of scripts within a minute: PIER_BROWSER_RATE_LIMIT_PER_MINUTE,
 * default ten times PIER_RATE_LIMIT_PER_MINUTE.
 */
export const browserRateLimitPerMinute = (env: Bindings): number =>
  int(env.PIER_BROWSER_RATE_LIMIT_PER_MINUTE, rateLimitPerMinute(env) * 10);

/** Webhook deliveries allowed per application and minute. */
export const webhookRateLimitPerMinute = (env: Bindings): number => int(env.PIER_WEBHOOK_RATE_LIMIT_PER_MINUTE, 30);

export const corsOrigins = (env: Bindings): string[] =>
  (env.PIER_CORS_ORIGINS ?? "*")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** What the printed agent install commands install instead of the published `pier-agent` package. */
export const agentPackage = (env: Bindings): string | undefined => env.PIER_AGENT_PACKAGE?.trim() || undefined;

/** The URL agents and webhook senders should use: PIER_PUBLIC_URL (behind a proxy), else the request's origin. */
export const publicBaseUrl = (env: Bindings, requestUrl: string): string =>
  (env.PIER_PUBLIC_URL || new URL(requestUrl).origin).replace(/\/+$/, "");

/** PIER_PUBLIC_URL's origin, or undefined when it is unset or malformed (then it names no origin). */
export const publicOrigin = (env: Pick<Bindings, "PIER_PUBLIC_URL">): string | undefined => {
  if (!env.PIER_PUBLIC_URL) return undefined;
  try {
    return new URL(env.PIER_PUBLIC_URL).origin;
  } catch {
    return undefined;
  }
};

/** npm start's local agent control URL (lib/local-agent.ts); deployed Workers have none. */
export const localAgentControlUrl = (env: Pick<Bindings, "PIER_LOCAL_AGENT_CONTROL">): string | undefined =>
  env.PIER_LOCAL_AGENT_CONTROL?.trim() || undefined;

/** Notification channels may point at loopback/private addresses (local testing only). */
export const privateUrlsAllowed = (env: Pick<Bindings, "PIER_ALLOW_PRIVATE_URLS">): boolean => env.PIER_ALLOW_PRIVATE_URLS === "true";

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
}

/** Channel delivery retries: 30 s, 1 min, 2 min, … capped at 1 h, 8 attempts (about 2 hours), unless configured. */
export const notifyRetryPolicy = (env: Bindings): RetryPolicy => ({
  baseMs: int(env.PIER_NOTIFY_RETRY_BASE_MS, 30_000),
  maxMs: int(env.PIER_NOTIFY_RETRY_MAX_MS, 3_600_000),
  maxAttempts: int(env.PIER_NOTIFY_MAX_ATTEMPTS, 8),
});

/** How long a host must stay disconnected before it is announced. */
export const disconnectNoticeMs = (env: Bindings): number => nonNegativeInt(env.PIER_HOST_DISCONNECT_NOTICE_MS, DISCONNECT_NOTICE_MS);

/** How long a host stays disconnected before it counts as lost (PIER_HOST_LOST_AFTER_MS, default 5 min). */
export const hostLostAfterMs = (env: Bindings): number => int(env.PIER_HOST_LOST_AFTER_MS, LOST_AFTER_MS);

/**
 * How long the HostRelay waits for the agent's `ack` of a command or stream (PIER_AGENT_ACK_TIMEOUT_MS,
 * default 5 s). An agent acks the moment a command arrives, so a missing ack means a frozen or
 * badly overloaded agent: the command fails with a 504 and the host counts as disconnected.
 */
export const agentAckTimeoutMs = (env: Bindings): number => int(env.PIER_AGENT_ACK_TIMEOUT_MS, 5_000);

/**
 * How many successful deployments per application keep their image on the host for rollback
 * (PIER_KEEP_DEPLOYMENT_IMAGES, default 5); older deployments' images are pruned after each one.
 */
export const keepDeploymentImages = (env: Bindings): number => int(env.PIER_KEEP_DEPLOYMENT_IMAGES, 5);

/**
 * The directory on a host that image saves to a host file may write into (PIER_BACKUPS_DIR,
 * default `/backups`, the path DevFlow's own example uses): an absolute path, no `..`.
 */
export function backupsDir(env: Pick<Bindings, "PIER_BACKUPS_DIR">): string {
  const dir = env.PIER_BACKUPS_DIR?.trim() || "/backups";
  if (!dir.startsWith("/") || dir.split("/").includes(".."))
    throw new Error(`PIER_BACKUPS_DIR must be an absolute path without '..' (got ${dir})`);
  return dir.length > 1 ? dir.replace(/\/+$/, "") : dir;
}

/**
 * The largest tar an image load or a container file upload takes (PIER_MAX_UPLOAD_BYTES, default
 * 10 GiB). The bytes stream through, so this bounds disk use on the host, not memory here.
 */
export const maxUploadBytes = (env: Bindings): number => int(env.PIER_MAX_UPLOAD_BYTES, 10 * 1024 ** 3);

/** A terminal with no byte either way for this long is closed (PIER_TERMINAL_IDLE_TIMEOUT_SECONDS, default 15 minutes). */
export const terminalIdleTimeoutMs = (env: Bindings): number =>
  int(env.PIER_TERMINAL_IDLE_TIMEOUT_SECONDS, TERMINAL_IDLE_TIMEOUT_MS / 1000) * 1000;
