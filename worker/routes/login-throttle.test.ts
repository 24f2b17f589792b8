// Sign-in throttling (issue 14.2): per target account and per client address, on every login
// path, whatever credential the guesser holds. The worker tests lock for 5 s at first
// (PIER_LOGIN_LOCKOUT_SECONDS in vitest.config.ts) after 5 failures per account, 20 per address.
import { describe, expect, it } from "vitest";
import { call, expectProblem, json, newOwner, randomIp, unique } from "../testing.ts";

const wrong = (login: string, extra: { apiKey?: string; ip?: string } = {}) =>
  call("/api/v1/auth/login", { body: { login, password: "not-the-password" }, ...extra });

async function apiKeysOf(token: string, n: number): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < n; i++) keys.push((await json(await call("/api/v1/api-keys", { token, body: { name: `k${i}` } }), 201)).key);
  return keys;
}

describe("sign-in throttling", () => {
  it("locks an account however many API keys and addresses the guesser rotates, on every login path", async () => {
    const victim = await newOwner("victim");
    const attacker = await newOwner("attacker");
    const keys = await apiKeysOf(attacker.token, 3);
    for (let i = 0; i < 5; i++) await expectProblem(await wrong(victim.username, { apiKey: keys[i % keys.length], ip: randomIp() }), 401);

    // Locked: even the right password is refused, on each surface in its own envelope.
    const canonical = await call("/api/v1/auth/login", { body: { login: victim.email, password: victim.password }, apiKey: keys[0] });
    const problem = await expectProblem(canonical, 429, /Too many failed sign-in attempts/);
    expect(Number(canonical.headers.get("retry-after"))).toBeGreaterThan(0);
    const seed001 = await call("/login", { body: { username: victim.username, password: victim.password } });
    expect(seed001.status).toBe(429);
    expect(seed001.headers.get("retry-after")).toEqual(expect.any(String));
    // The same words on each surface; the seconds left may have ticked down between the calls.
    const escaped = problem.detail.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const sameWords = expect.stringMatching(new RegExp(`^${escaped.replace(/\d+ s\b/, "\\d+ s")}$`));
    expect(await seed001.json()).toEqual({ success: false, message: sameWords });
    const devflow = await call("/api/login", { body: { email: victim.email, password: victim.password } });
    expect(devflow.status).toBe(429);
    expect(devflow.headers.get("retry-after")).toEqual(expect.any(String));
    expect(await devflow.json()).toEqual({ message: sameWords });

    // Once the lockout ends the right password works, and a success starts the count afresh.
    await expect
      .poll(async () => (await call("/api/v1/auth/login", { body: { login: victim.username, password: victim.password } })).status, {
        timeout: 20_000,
        interval: 250,
      })
      .toBe(200);
    for (let i = 0; i < 4; i++) await expectProblem(await wrong(victim.username), 401);
    await json(await call("/api/v1/auth/login", { body: { login: victim.username, password: victim.password } }), 200);
  });

  it("doubles the lockout with each failure after it", async () => {
    const owner = await newOwner();
    for (let i = 0; i < 5; i++) await expectProblem(await wrong(owner.username), 401);
    const first = Number((await wrong(owner.username)).headers.get("retry-after"));
    await expect.poll(async () => (await wrong(owner.username)).status, { timeout: 20_000, interval: 250 }).toBe(401);
    const second = Number((await wrong(owner.username)).headers.get("retry-after"));
    expect(first).toBeLessThanOrEqual(5);
    expect(second).toBeGreaterThan(5);
    expect(second).toBeLessThanOrEqual(10);
  });

  it("answers an unknown login name exactly like an account", async () => {
    const owner = await newOwner();
    const ghost = unique("ghost");
    const known: Array<[number, string]> = [];
    const unknown: Array<[number, string]> = [];
    for (let i = 0; i < 6; i++) {
      for (const [login, into] of [
        [owner.username, known],
        [ghost, unknown],
      ] as const) {
        const res = await wrong(login);
        into.push([res.status, ((await res.json()) as { detail: string }).detail]);
      }
    }
    expect(unknown).toEqual(known);
    expect(known.map(([status]) => status)).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it("counts a wrong current password at a password change like a failed sign-in", async () => {
    const owner = await newOwner();
    const change = (current: string) =>
      call("/api/v1/me/password", { token: owner.token, body: { current_password: current, new_password: "a-new-password" } });
    for (let i = 0; i < 5; i++) await expectProblem(await change("not-the-password"), 401, /current password/);
    await expectProblem(await change(owner.password), 429, /Too many failed sign-in attempts/);
    await expectProblem(await call("/api/v1/auth/login", { body: { login: owner.username, password: owner.password } }), 429);
  });

  it("lets a burst of concurrent guesses through no faster than one at a time", async () => {
    const owner = await newOwner();
    const statuses = await Promise.all(Array.from({ length: 12 }, () => wrong(owner.username, { ip: randomIp() }).then((r) => r.status)));
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });

  it("limits one address across accounts, and a success of its own does not clear that", async () => {
    const own = await newOwner("own");
    const ip = randomIp();
    for (let i = 0; i < 19; i++) await expectProblem(await wrong(unique("spray"), { ip }), 401);
    // Signing in to an account of one's own takes back only that attempt.
    await json(await call("/api/v1/auth/login", { body: { login: own.username, password: own.password }, ip }), 200);
    await expectProblem(await wrong(unique("spray"), { ip }), 401);
    await expectProblem(await wrong(unique("spray"), { ip }), 429);
    await expectProblem(await call("/api/v1/auth/login", { body: { login: own.username, password: own.password }, ip }), 429);
    // Another address is not affected.
    await json(await call("/api/v1/auth/login", { body: { login: own.username, password: own.password } }), 200);
  });
});
