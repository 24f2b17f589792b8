import type { Bindings } from "./env.ts";
import type { AuthSettings } from "./services/accounts.ts";
import type { LoginThrottleSettings } from "./services/login-throttle.ts";

const int = (value: string | undefined, fallback: number): number => {
  const n = Number.parseInt(value ?? "", 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
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

export const rateLimitPerMinute = (env: Bindings): number => int(env.PIER_RATE_LIMIT_PER_MINUTE, 60);

export const corsOrigins = (env: Bindings): string[] =>
  (env.PIER_CORS_ORIGINS ?? "*")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** What the printed agent install commands install instead of the published `pier-agent` package. */
export const agentPackage = (env: Bindings): string | undefined => env.PIER_AGENT_PACKAGE?.trim() || undefined;
