import type { Bindings } from "./env.ts";
import type { AuthSettings } from "./services/accounts.ts";

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

export const rateLimitPerMinute = (env: Bindings): number => int(env.PIER_RATE_LIMIT_PER_MINUTE, 60);

export const corsOrigins = (env: Bindings): string[] =>
  (env.PIER_CORS_ORIGINS ?? "*")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** What the printed agent install commands install instead of the published `pier-agent` package. */
export const agentPackage = (env: Bindings): string | undefined => env.PIER_AGENT_PACKAGE?.trim() || undefined;
