import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type SseEvent, SseStream } from "../../test/support/sse.ts";
import { notify } from "../services/notifications.ts";
import { addMember, call, expectProblem, json, newOwner, type TestAccount } from "../testing.ts";

const say = (account: TestAccount, title: string, kind: Parameters<typeof notify>[1]["kind"] = "deployment.succeeded") =>
  notify(env, { organizationId: account.organizationId, kind, title, message: `${title}: details` });

/** The next `count` notifications on an SSE response; the stream is closed after. */
async function readFrames(res: Response, count: number): Promise<SseEvent[]> {
  const stream = new SseStream(res);
  try {
    return await stream.take(count);
  } finally {
    await stream.close();
  }
}

describe("notification center", () => {
  it("keeps read state, deletion and clear-all per user", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    await say(owner, "first");
    await say(owner, "second");
    await say(owner, "third");

    const list = await json(await call("/api/v1/notifications", { token: owner.token }), 200);
    expect(list.notifications.map((n: any) => n.title)).toEqual(["third", "second", "first"]);
    expect(list.unread_count).toBe(3);
    const [third, second] = list.notifications;

    const read = await json(await call(`/api/v1/notifications/${second.id}/read`, { method: "POST", token: owner.token }), 200);
    expect(read).toMatchObject({ id: second.id, read: true, read_at: expect.any(String) });
    expect(await json(await call("/api/v1/notifications/unread-count", { token: owner.token }), 200)).toEqual({ unread_count: 2 });
    // The member's copy is untouched.
    expect(await json(await call("/api/v1/notifications/unread-count", { token: member.token }), 200)).toEqual({ unread_count: 3 });
    const unreadOnly = await json(await call("/api/v1/notifications?unread=true", { token: owner.token }), 200);
    expect(unreadOnly.notifications.map((n: any) => n.title)).toEqual(["third", "first"]);
    await json(await call(`/api/v1/notifications/${second.id}/unread`, { method: "POST", token: owner.token }), 200);
    expect((await json(await call("/api/v1/notifications/unread-count", { token: owner.token }), 200)).unread_count).toBe(3);

    expect((await call(`/api/v1/notifications/${third.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    await expectProblem(await call(`/api/v1/notifications/${third.id}`, { token: owner.token }), 404);
    expect((await json(await call(`/api/v1/notifications/${third.id}`, { token: member.token }), 200)).title).toBe("third");

    expect(await json(await call("/api/v1/notifications/read-all", { method: "POST", token: member.token }), 200)).toEqual({ updated: 3 });
    expect((await json(await call("/api/v1/notifications/unread-count", { token: member.token }), 200)).unread_count).toBe(0);

    expect(await json(await call("/api/v1/notifications", { method: "DELETE", token: owner.token }), 200)).toEqual({ deleted: 2 });
    expect((await json(await call("/api/v1/notifications", { token: owner.token }), 200)).notifications).toEqual([]);
    expect((await json(await call("/api/v1/notifications", { token: member.token }), 200)).notifications).toHaveLength(3);

    const audit = await json(await call("/api/v1/audit-events", { token: owner.token }), 200);
    expect(audit.audit_events.map((e: any) => e.action)).toEqual(expect.arrayContaining(["notification.delete", "notification.clear_all"]));
  });

  it("shows another organization nothing", async () => {
    const a = await newOwner("a");
    const b = await newOwner("b");
    await say(a, "only for a");
    const [mine] = (await json(await call("/api/v1/notifications", { token: a.token }), 200)).notifications;
    expect((await json(await call("/api/v1/notifications", { token: b.token }), 200)).notifications).toEqual([]);
    await expectProblem(await call(`/api/v1/notifications/${mine.id}`, { token: b.token }), 404);
    await expectProblem(await call(`/api/v1/notifications/${mine.id}/read`, { method: "POST", token: b.token }), 404);
    await expectProblem(await call(`/api/v1/notifications/${mine.id}`, { method: "DELETE", token: b.token }), 404);
    const compat = await json(await call("/api/notifications", { token: b.token }), 200);
    expect(compat).toMatchObject({ notifications: [], total: 0, data: [] });
    expect((await call(`/api/notifications/${mine.id}`, { token: b.token })).status).toBe(404);
  });

  it("switches kinds off for the organization (admins only)", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    await expectProblem(
      await call("/api/v1/notifications/settings", { method: "PATCH", token: member.token, body: { kinds: { "host.online": false } } }),
      403,
    );
    await expectProblem(
      await call("/api/v1/notifications/settings", { method: "PATCH", token: owner.token, body: { kinds: { "no.such": false } } }),
      422,
    );
    const settings = await json(
      await call("/api/v1/notifications/settings", { method: "PATCH", token: owner.token, body: { kinds: { "host.online": false } } }),
      200,
    );
    expect(settings.kinds).toContainEqual({ kind: "host.online", enabled: false });
    expect(settings.kinds).toContainEqual({ kind: "host.lost", enabled: true });
    await say(owner, "back", "host.online");
    await say(owner, "gone", "host.lost");
    expect((await json(await call("/api/v1/notifications", { token: member.token }), 200)).notifications.map((n: any) => n.title)).toEqual([
      "gone",
    ]);
  });

  it("answers the seed documents' shapes at their paths", async () => {
    const owner = await newOwner();
    await say(owner, "deployed");
    await say(owner, "failed", "deployment.failed");
    const list = await json(await call("/api/notifications?limit=1", { token: owner.token }), 200);
    expect(list.total).toBe(2);
    expect(list.notifications).toHaveLength(1);
    expect(list.notifications[0]).toMatchObject({
      id: expect.stringMatching(/^ntf_/),
      message: "failed: details",
      type: "error",
      created_at: expect.any(String),
    });
    const latest = await json(await call("/api/notifications/latest", { token: owner.token }), 200);
    expect(latest).toMatchObject({ total: 2, unread_count: 2 });
    const id = latest.notifications[1].id;
    expect(await json(await call(`/api/notifications/${id}`, { token: owner.token }), 200)).toMatchObject({
      success: true,
      data: { id, type: "success" },
    });
    expect(await json(await call(`/api/notifications/${id}/read`, { method: "POST", token: owner.token }), 200)).toMatchObject({
      success: true,
      data: { read: true },
    });
    expect(await json(await call("/api/notifications/unread-count", { token: owner.token }), 200)).toMatchObject({
      success: true,
      data: { count: 1 },
    });
    expect(await json(await call(`/api/notifications/${id}`, { method: "DELETE", token: owner.token }), 200)).toMatchObject({
      success: true,
    });
    expect(await json(await call(`/api/notifications/${id}`, { token: owner.token }), 404)).toMatchObject({
      success: false,
      error: expect.any(String),
    });
    expect(await json(await call("/api/notifications/clear-all", { method: "POST", token: owner.token }), 200)).toMatchObject({
      success: true,
      data: { deleted: 1 },
    });
    expect(await json(await call("/api/notifications", { token: owner.token }), 200)).toMatchObject({ notifications: [], total: 0 });
    expect(await json(await call("/api/notifications"), 401)).toMatchObject({ success: false });
  });

  it("streams notifications over SSE and replays what a reconnecting client missed", async () => {
    const owner = await newOwner();
    const stranger = await newOwner("stranger");
    await say(owner, "before");
    const [before] = (await json(await call("/api/v1/notifications", { token: owner.token }), 200)).notifications;

    // Live: subscribe, then notify.
    const live = await call(`/api/notifications/stream?access_token=${owner.token}`);
    expect(live.status).toBe(200);
    expect(live.headers.get("content-type")).toContain("text/event-stream");
    const strangerStream = await call("/api/v1/notifications/stream", { token: stranger.token });
    // The first frame says the subscription is live (and how soon EventSource should come back).
    const first = await strangerStream.clone().body!.getReader().read();
    expect(new TextDecoder().decode(first.value)).toBe("retry: 3000\n: ready\n\n");
    const reading = readFrames(live, 2);
    await say(owner, "live one", "deployment.failed");
    await say(owner, "live two");
    const frames = await reading;
    expect(frames.map((f) => f.data)).toEqual([
      expect.objectContaining({ type: "notification", title: "live one", message: "live one: details", kind: "deployment.failed" }),
      expect.objectContaining({ type: "notification", title: "live two" }),
    ]);
    expect(frames[0]!.id).toMatch(/^\d+-ntf_/);

    // Reconnect with the id of the first notification: everything after it, still stored, comes first.
    const resumed = await call("/api/v1/notifications/stream", {
      token: owner.token,
      headers: {
        "last-event-id": `${Date.parse((await json(await call(`/api/v1/notifications/${before.id}`, { token: owner.token }), 200)).created_at)}-${before.id}`,
      },
    });
    const replay = await readFrames(resumed, 2);
    expect(replay.map((f) => f.data.title)).toEqual(["live one", "live two"]);
    expect(replay.map((f) => f.id)).toEqual(frames.map((f) => f.id));

    // The stranger's stream got none of it: its first frame is a notification of its own.
    const strangerReading = readFrames(strangerStream, 1);
    await say(stranger, "for the stranger");
    expect((await strangerReading).map((f) => f.data.title)).toEqual(["for the stranger"]);
  });
});
