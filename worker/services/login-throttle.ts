import ipaddr from "ipaddr.js";
import type { LoginGuard, LoginPolicy } from "../durable/login-guard.ts";
import { ApiError } from "../errors.ts";

export interface LoginThrottleSettings {
  account: LoginPolicy;
  address: LoginPolicy;
}

/** A reserved sign-in attempt: it counts as a failure unless settled as a success. */
export interface LoginAttempt {
  succeeded(): Promise<void>;
}

/**
 * Throttles sign-in attempts per target account and per client address, whatever credential the
 * request carries (every login path calls it through `accounts.checkCredentials`).
 */
export interface LoginThrottle {
  /** Throws 429 (with Retry-After) while the account or the address is locked out. */
  begin(target: string, address: string | null): Promise<LoginAttempt>;
}

/**
 * The address bucket: the address itself for IPv4, its /64 for IPv6 (one subscriber usually
 * holds a whole /64, so single addresses would be free to rotate).
 */
export function addressBucket(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === "ipv4") return parsed.toString();
  const bytes = parsed.toByteArray().slice(0, 8);
  return `${ipaddr.fromByteArray([...bytes, 0, 0, 0, 0, 0, 0, 0, 0]).toString()}/64`;
}

export function loginThrottle(env: { LOGIN_GUARD: DurableObjectNamespace<LoginGuard> }, settings: LoginThrottleSettings): LoginThrottle {
  return {
    async begin(target, address) {
      const account = env.LOGIN_GUARD.getByName(`account:${target}`);
      const from = address ? env.LOGIN_GUARD.getByName(`address:${addressBucket(address)}`) : null;
      const [accountVerdict, addressVerdict] = await Promise.all([
        account.attempt(settings.account),
        from ? from.attempt(settings.address) : null,
      ]);
      const refused = [accountVerdict, addressVerdict].filter((v) => v && !v.allowed);
      if (refused.length > 0) {
        // The side that allowed it has counted an attempt that never happened: take it back.
        await Promise.all([
          accountVerdict.allowed ? account.succeeded(false) : null,
          from && addressVerdict?.allowed ? from.succeeded(false) : null,
        ]);
        const retryAfter = Math.max(1, Math.ceil(Math.max(...refused.map((v) => v?.retryAfterMs ?? 0)) / 1000));
        // One answer for an account and for an unknown login name, for the account and the address.
        throw new ApiError(429, `Too many failed sign-in attempts: wait ${retryAfter} s before trying again.`, {
          headers: { "Retry-After": String(retryAfter) },
        });
      }
      return {
        async succeeded() {
          await Promise.all([account.succeeded(true), from?.succeeded(false)]);
        },
      };
    },
  };
}
