import { MASK } from "./environment.ts";
import { roleAtLeast, type Principal } from "./principal.ts";

/**
 * Hides environment values in a container's inspect document from callers below admin. Pier puts
 * decrypted application secrets and database passwords into containers' environments, and only
 * admins may read those (as with `?reveal=true` on an application's environment).
 */
export function maskEnvBelowAdmin<T>(principal: Principal, doc: T): T {
  if (roleAtLeast(principal.role, "admin")) return doc;
  const config = (doc as { Config?: { Env?: unknown } }).Config;
  if (!config || !Array.isArray(config.Env)) return doc;
  const env = config.Env.map((entry: unknown) =>
    typeof entry === "string" && entry.includes("=") ? `${entry.slice(0, entry.indexOf("="))}=${MASK}` : entry,
  );
  return { ...doc, Config: { ...config, Env: env } };
}
