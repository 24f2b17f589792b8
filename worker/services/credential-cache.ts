import type { RateLimiter } from "../durable/rate-limiter.ts";

/**
 * The per-credential RateLimiter object also holds the credential's resolved principal (see
 * durable/rate-limiter.ts). Services that revoke a credential or change what it may do call
 * `forget` with the credentials they touched, after their database write and before they answer,
 * so the very next request reads the database again.
 */
export interface CredentialCache {
  forget(rateKeys: readonly string[]): Promise<void>;
}

/** A session's bucket: its id, known from the access token's verified claims. */
export const sessionRateKey = (sessionId: string): string => `session:${sessionId}`;

/** An API key's bucket, from the SHA-256 (hex) that is stored for the key. */
export const apiKeyRateKey = (keyHash: string): string => `key:${keyHash.slice(0, 32)}`;

export function credentialCache(env: { RATE_LIMITER: DurableObjectNamespace<RateLimiter> }): CredentialCache {
  return {
    async forget(rateKeys) {
      await Promise.all([...new Set(rateKeys)].map((key) => env.RATE_LIMITER.getByName(key).forget()));
    },
  };
}
