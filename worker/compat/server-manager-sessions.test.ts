// Seed 004's session pages and test notification, which the walk of its endpoints found missing:
// GET /login, GET /logout, /api/admin/ (with its slash) and POST /api/test/notification.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { addMember, call, json, login, newOwner } from "../testing.ts";

describe("seed 004's login and logout pages", () => {
  it("GET /login sends a browser to the sign-in page and tells a script how to sign in", async () => {
    const page = await SELF.fetch("http://pier.test/login", { headers: { accept: "text/html" }, redirect: "manual" });
    expect(page.status).toBe(302);
    expect(page.headers.get("location")).toBe("/signin");
    expect(await json(await call("/login"), 200)).toMatchObject({
      success: true,
      data: { page: "/signin", sign_in: "POST /login", authenticated: false },
    });
  });

  it("GET /logout ends the bearer's session, and answers 401 without one", async () => {
    const owner = await newOwner();
    const session = await login(owner.username, owner.password);
    expect((await json(await call("/api/session/check", { token: session.access_token }), 200)).data.authenticated).toBe(true);
    expect(await json(await call("/logout", { token: session.access_token }), 200)).toMatchObject({
      success: true,
      data: { session_id: session.session_id },
    });
    expect((await call("/api/session/check", { token: session.access_token })).status).toBe(401);
    expect((await call("/logout")).status).toBe(401);
  });

  it("/api/admin/ is the admin page, with or without its slash, for admins only", async () => {
    const owner = await newOwner();
    const a = await json(await call("/api/admin/", { token: owner.token }), 200);
    expect(a).toEqual(await json(await call("/api/admin", { token: owner.token }), 200));
    expect(a.data).toMatchObject({ users: 1, dashboard: "/settings/iam" });
    const member = await addMember(owner, "member");
    expect(await json(await call("/api/admin/", { token: member.token }), 403)).toMatchObject({ success: false });
  });
});

describe("seed 004's test notification", () => {
  it("sends a test through every enabled channel, says so when there is none, and needs admin_access", async () => {
    const owner = await newOwner();
    expect(await json(await call("/api/test/notification", { token: owner.token, method: "POST" }), 200)).toMatchObject({
      success: true,
      data: { channels: 0, deliveries: [] },
      message: expect.stringMatching(/No notification channel/),
    });
    const channel = await json(
      await call("/api/v1/notification-channels", {
        token: owner.token,
        body: {
          name: "ops hook",
          type: "webhook",
          config: { url: "https://hooks.example.test/pier", secret: "a-shared-secret-of-length" },
        },
      }),
      201,
    );
    const sent = await json(await call("/api/test/notification", { token: owner.token, method: "POST" }), 202);
    expect(sent.data).toMatchObject({ channels: 1, deliveries: [{ channel_id: channel.id, channel: "ops hook", type: "webhook" }] });
    const deliveries = await json(await call(`/api/v1/notification-channels/${channel.id}/deliveries`, { token: owner.token }), 200);
    expect(deliveries.deliveries.map((d: { id: string }) => d.id)).toContain(sent.data.deliveries[0].delivery_id);
    // The permission model of 004's other settings paths: admin_access, which a member may be granted.
    const member = await addMember(owner, "member");
    expect(await json(await call("/api/test/notification", { token: member.token, method: "POST" }), 403)).toMatchObject({
      success: false,
      error: expect.stringMatching(/admin_access/),
    });
    await json(
      await call(`/api/v1/users/${member.userId}/permissions`, {
        method: "PUT",
        token: owner.token,
        body: { permissions: ["manage_servers", "admin_access"] },
      }),
      200,
    );
    const byMember = await json(await call("/api/test/notification", { token: member.token, method: "POST" }), 202);
    expect(byMember.data).toMatchObject({ channels: 1, deliveries: [{ channel_id: channel.id }] });
    // The channel's own test is the same check; changing the channel stays with admins.
    await json(await call(`/api/v1/notification-channels/${channel.id}/test`, { token: member.token, method: "POST" }), 202);
    expect(
      (await call(`/api/v1/notification-channels/${channel.id}`, { token: member.token, method: "PATCH", body: { name: "mine" } })).status,
    ).toBe(403);
  });
});
