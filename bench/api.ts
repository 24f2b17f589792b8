// A small client for Pier's API. undici `request` on a keep-alive pool, like the Docker baseline,
// so both sides of a ratio pay the same client cost.
import { Pool } from "undici";

interface Session {
  access_token: string;
  access_token_expires_at: string;
  refresh_token: string;
}

type Method = "GET" | "HEAD" | "POST" | "DELETE";

export class Api {
  readonly #pool: Pool;
  readonly url: string;
  token = "";
  /** Access tokens live 15 minutes (ACCESS_TOKEN_TTL_SECONDS) and a full run takes longer. */
  #refreshToken = "";
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  #renewing: Promise<void> | undefined;
  /** Tokens renewed during the run (the bench reports it beside its results). */
  renewals = 0;

  constructor(url: string) {
    this.url = url;
    this.#pool = new Pool(url, { keepAliveTimeout: 10_000 });
  }

  async call<T = any>(method: Method, path: string, body?: unknown, expect = 200): Promise<T> {
    try {
      return await this.#call<T>(method, path, body, expect);
    } catch (error) {
      // The renewal timer can fire late on a loaded machine; an expired token is renewed and the
      // call made once more rather than ending a run of many minutes.
      if (!(error instanceof HttpError && error.status === 401 && expect !== 401 && this.#refreshToken)) throw error;
      await this.renew();
      return this.#call<T>(method, path, body, expect);
    }
  }

  /** Without any credential: the request is counted against the client's address instead. */
  callAnonymous<T = any>(method: Method, path: string, expect = 200): Promise<T> {
    return this.#call<T>(method, path, undefined, expect, true);
  }

  async #call<T>(method: Method, path: string, body: unknown, expect: number, anonymous = false): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token && !anonymous) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await this.#pool.request({ method, path, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.body.text();
    if (res.statusCode !== expect) throw new HttpError(res.statusCode, `${method} ${path}: ${res.statusCode} ${text.slice(0, 500)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async registerAndLogin(runId: string): Promise<void> {
    const user = { email: `bench-${runId}@example.com`, username: `bench${runId}`, password: `bench-${runId}-Passw0rd!` };
    await this.call("POST", "/api/v1/auth/register", user, 201);
    this.#adopt(await this.call<Session>("POST", "/api/v1/auth/login", { login: user.username, password: user.password }));
  }

  /**
   * Rotates the session's tokens. Scheduled at half of each access token's life, in the
   * background, so no timed request pays for it; requests in flight keep the old token, which is
   * still valid.
   */
  renew(): Promise<void> {
    this.#renewing ??= (async () => {
      try {
        // Without the access token: an expired one would be refused before the refresh token is read.
        const session = await this.#call<Session>("POST", "/api/v1/auth/refresh", { refresh_token: this.#refreshToken }, 200, true);
        this.renewals++;
        this.#adopt(session);
      } finally {
        this.#renewing = undefined;
      }
    })();
    return this.#renewing;
  }

  #adopt(session: Session): void {
    this.token = session.access_token;
    this.#refreshToken = session.refresh_token;
    clearTimeout(this.#renewTimer);
    const lifeMs = Date.parse(session.access_token_expires_at) - Date.now();
    this.#renewTimer = setTimeout(
      () => void this.renew().catch((error) => console.error(`[bench] renewing the access token failed: ${error.message}`)),
      Math.max(1_000, lifeMs / 2),
    );
    this.#renewTimer.unref();
  }

  createHost(name: string): Promise<{ id: string; agent_token: string }> {
    return this.call("POST", "/api/v1/hosts", { name }, 201);
  }

  /** Polls until the host reports online; the agent's hello is what flips it. */
  async waitOnline(hostId: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const host = await this.call<{ status: string }>("GET", `/api/v1/hosts/${hostId}`);
      if (host.status === "online") return;
      if (Date.now() > deadline) throw new Error(`host ${hostId} is still ${host.status} after ${timeoutMs / 1000} s`);
      await sleep(200);
    }
  }

  close(): Promise<void> {
    clearTimeout(this.#renewTimer);
    return this.#pool.close();
  }
}

export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}
