// Host presence that holds after a restart of the control plane: the agent's socket is gone while
// the database still says online, and no alarm is pending. The cron sweep and any wake of the
// relay must settle it (disconnected now, lost later, each notice once), not leave it online.
import worker from "../index.ts";
import {
  createExecutionContext,
  createScheduledController,
  env,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDatabase } from "../db/client.ts";
import { hosts } from "../db/schema.ts";
import { call, json, newOwner, type TestAccount, waitForStatus } from "../testing.ts";
import { ScriptedAgent } from "../testing-agent.ts";

async function hostAfterRestart(owner: TestAccount) {
  const host = await json(await call("/api/v1/hosts", { token: owner.token, body: { name: `p${Date.now().toString(36)}` } }), 201);
  const agent = await ScriptedAgent.connect(host.agent_token);
  await waitForStatus(owner, host.id, "online");
  agent.ws.close(1000, "bye");
  await waitForStatus(owner, host.id, "disconnected");
  // What a restart leaves: no socket, no alarm, and a mirror that still says online (its last
  // heartbeat long ago).
  const relay = env.HOST_RELAY.getByName(host.id);
  await runInDurableObject(relay, (_o, ctx) => ctx.storage.deleteAlarm());
  const longAgo = new Date(Date.now() - 10 * 60_000).toISOString();
  const db = createDatabase(env);
  await db.update(hosts).set({ state: "online", lastSeenAt: longAgo, disconnectedAt: null }).where(eq(hosts.id, host.id));
  return { host, relay, db };
}

const rowOf = async (db: ReturnType<typeof createDatabase>, id: string) => (await db.select().from(hosts).where(eq(hosts.id, id)))[0]!;

describe("host presence after a restart", () => {
  it("the cron sweep settles a host whose relay never wakes", async () => {
    const owner = await newOwner();
    const { host, relay, db } = await hostAfterRestart(owner);
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const row = await rowOf(db, host.id);
    expect(row.state).toBe("disconnected");
    expect(row.disconnectedAt).not.toBeNull();
    // …and its relay is watching again: the notice and the lost state follow from its alarm.
    expect(await runInDurableObject(relay, (_o, ctx) => ctx.storage.getAlarm())).not.toBeNull();
  });

  it("a command to a host without an agent re-arms the relay, which settles it", async () => {
    const owner = await newOwner();
    const { host, relay, db } = await hostAfterRestart(owner);
    const res = await call(`/api/v1/hosts/${host.id}/containers`, { token: owner.token });
    expect(res.status).toBe(503);
    await expect.poll(() => runInDurableObject(relay, (_o, ctx) => ctx.storage.getAlarm())).not.toBeNull();
    expect(await runDurableObjectAlarm(relay)).toBe(true);
    expect((await rowOf(db, host.id)).state).toBe("disconnected");
  });
});
