import { DurableObject } from "cloudflare:workers";

export interface LoginPolicy {
  /** Failures allowed before the first lockout. */
  freeFailures: number;
  /** The first lockout; each further failure doubles it, up to `maxMs`. */
  baseMs: number;
  maxMs: number;
  /** Failures are forgotten after this long without one. */
  forgetAfterMs: number;
}

export interface LoginVerdict {
  allowed: boolean;
  /** While refused: how long until an attempt is allowed again. */
  retryAfterMs: number;
}

interface State {
  failures: number;
  lastFailureAt: number;
}

/**
 * One object per login target (an account, or a login name no account has) and one per client
 * address: counts failed sign-ins and locks the target out for a window that doubles with every
 * further failure. The count is stored, not kept in memory, so waiting for the object to be
 * evicted does not reset it.
 *
 * Every attempt counts as a failure until the caller settles it as a success: a burst of
 * concurrent guesses cannot all slip in before the first of them is known to have failed.
 */
export class LoginGuard extends DurableObject {
  private state: State = { failures: 0, lastFailureAt: 0 };

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.state = (await ctx.storage.get<State>("state")) ?? this.state;
    });
  }

  async attempt(policy: LoginPolicy): Promise<LoginVerdict> {
    const now = Date.now();
    if (this.state.failures > 0 && now - this.state.lastFailureAt > policy.forgetAfterMs) this.state = { failures: 0, lastFailureAt: 0 };
    const lockedFor = lockedUntil(this.state, policy) - now;
    if (lockedFor > 0) return { allowed: false, retryAfterMs: lockedFor };
    this.state = { failures: this.state.failures + 1, lastFailureAt: now };
    await this.ctx.storage.put("state", this.state);
    // Nothing worth keeping once the failures are forgotten: the alarm clears the object.
    await this.ctx.storage.setAlarm(now + policy.forgetAfterMs + 1000);
    return { allowed: true, retryAfterMs: 0 };
  }

  /**
   * The attempt succeeded. An account starts afresh; an address only takes back this attempt, so
   * a guesser cannot wipe an address's record by signing in to an account of their own.
   */
  async succeeded(reset: boolean): Promise<void> {
    const failures = reset ? 0 : Math.max(0, this.state.failures - 1);
    this.state = { ...this.state, failures };
    if (failures === 0) await this.ctx.storage.deleteAll();
    else await this.ctx.storage.put("state", this.state);
  }

  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.state = { failures: 0, lastFailureAt: 0 };
  }
}

function lockedUntil(state: State, policy: LoginPolicy): number {
  if (state.failures < policy.freeFailures) return 0;
  const doublings = Math.min(state.failures - policy.freeFailures, 30);
  return state.lastFailureAt + Math.min(policy.baseMs * 2 ** doublings, policy.maxMs);
}
