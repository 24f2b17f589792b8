import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { isPrivateHost, maskSecret } from "../services/channels/index.ts";
import { addMember, call, expectProblem, json, newOwner } from "../testing.ts";

const slack = { type: "slack", name: "ops", config: { webhook_url: "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXsecret" } };

describe("notification channels", () => {
  it("creates, lists, updates and deletes channels with secrets masked and encrypted", async () => {
    const owner = await newOwner();
    const created = await json(
      await call("/api/v1/notification-channels", { token: owner.token, body: { ...slack, events: ["deployment.failed", "host.lost"] } }),
      201,
    );
    expect(created).toMatchObject({
      id: expect.stringMatching(/^chn_/),
      type: "slack",
      name: "ops",
      enabled: true,
      events: ["deployment.failed", "host.lost"],
    });
    expect(created.config.webhook_url).toBe("https://hooks.slack.com/…cret");
    expect(JSON.stringify(created)).not.toContain("XXXXXXXXXXXX");

    const list = await json(await call("/api/v1/notification-channels", { token: owner.token }), 200);
    expect(list.channels.map((c: any) => c.id)).toEqual([created.id]);
    expect(JSON.stringify(list)).not.toContain("XXXXXXXXXXXX");

    // Sending back the masked value keeps the secret; changing the name does not touch it.
    const renamed = await json(
      await call(`/api/v1/notification-channels/${created.id}`, {
        method: "PATCH",
        token: owner.token,
        body: { name: "ops-2", config: { webhook_url: created.config.webhook_url }, events: null },
      }),
      200,
    );
    expect(renamed).toMatchObject({ name: "ops-2", events: null, config: { webhook_url: created.config.webhook_url } });

    const telegram = await json(
      await call("/api/v1/notification-channels", {
        token: owner.token,
        body: { type: "telegram", name: "tg", config: { bot_token: "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", chat_id: -100123 } },
      }),
      201,
    );
    expect(telegram.config).toEqual({ bot_token: "…Dsaw", chat_id: "-100123" });
    const email = await json(
      await call("/api/v1/notification-channels", {
        token: owner.token,
        body: {
          type: "email",
          name: "mail",
          config: { api_key: "re_123456789abcdef", from: "Pier <pier@example.com>", to: "ops@example.com" },
        },
      }),
      201,
    );
    expect(email.config).toEqual({ api_key: "…cdef", from: "Pier <pier@example.com>", to: ["ops@example.com"] });
    const hook = await json(
      await call("/api/v1/notification-channels", {
        token: owner.token,
        body: { type: "webhook", name: "mine", config: { url: "https://example.com/hooks/pier", secret: "a-long-enough-secret" } },
      }),
      201,
    );
    expect(hook.config).toEqual({ url: "https://example.com/…pier", secret: "…cret" });

    expect((await call(`/api/v1/notification-channels/${created.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    await expectProblem(await call(`/api/v1/notification-channels/${created.id}`, { token: owner.token }), 404);
    const audit = await json(await call("/api/v1/audit-events", { token: owner.token }), 200);
    expect(audit.audit_events.map((e: any) => e.action)).toEqual(
      expect.arrayContaining(["notification_channel.create", "notification_channel.update", "notification_channel.delete"]),
    );
    expect(JSON.stringify(audit)).not.toContain("XXXXXXXXXXXX");
  });

  it("validates each type's config and refuses private URLs unless allowed", async () => {
    const owner = await newOwner();
    const bad = await expectProblem(
      await call("/api/v1/notification-channels", {
        token: owner.token,
        body: { type: "webhook", name: "x", config: { url: "ftp://example.com", secret: "short" } },
      }),
      422,
    );
    expect(bad.errors.map((e: any) => e.pointer)).toEqual(expect.arrayContaining(["/body/config/url", "/body/config/secret"]));
    await expectProblem(
      await call("/api/v1/notification-channels", { token: owner.token, body: { type: "pager", name: "x", config: {} } }),
      422,
    );
    await expectProblem(
      await call("/api/v1/notification-channels", { token: owner.token, body: { ...slack, events: ["no.such.kind"] } }),
      422,
    );

    // The tests run with PIER_ALLOW_PRIVATE_URLS=true; the check itself:
    expect(env.PIER_ALLOW_PRIVATE_URLS).toBe("true");
    for (const host of [
      "localhost",
      "127.0.0.1",
      "10.1.2.3",
      "172.20.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "[::1]",
      "[fd00::1]",
      "[::ffff:127.0.0.1]",
      "2130706433",
      "db.internal",
      "printer.local",
      "0.0.0.0",
      "100.64.0.1",
      "0x7f000001",
      "127.1",
      "[fec0::1]", // site-local (deprecated, still routed privately)
      "[ff02::1]", // multicast
      "[64:ff9b::a9fe:a9fe]", // NAT64 of 169.254.169.254
      "[2002:7f00:1::]", // 6to4 of 127.0.0.1
      "[2001:db8::1]", // documentation
      "[::ffff:7f00:1]", // mapped 127.0.0.1, in hex
      "[fe80::1]",
      "224.0.0.1",
      "255.255.255.255",
    ]) {
      expect(isPrivateHost(host), host).toBe(true);
    }
    for (const host of ["hooks.slack.com", "8.8.8.8", "172.32.0.1", "[2606:4700::1111]", "[::ffff:8.8.8.8]", "discord.com", "1.example"])
      expect(isPrivateHost(host), host).toBe(false);
    expect(maskSecret("abc")).toBe("…");
  });

  it("lets only owners and admins manage channels, and hides other organizations' channels", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    await expectProblem(await call("/api/v1/notification-channels", { token: member.token, body: slack }), 403);
    const created = await json(await call("/api/v1/notification-channels", { token: owner.token, body: slack }), 201);
    expect((await json(await call(`/api/v1/notification-channels/${created.id}`, { token: member.token }), 200)).id).toBe(created.id);
    await expectProblem(
      await call(`/api/v1/notification-channels/${created.id}`, { method: "PATCH", token: member.token, body: { name: "x" } }),
      403,
    );
    await expectProblem(await call(`/api/v1/notification-channels/${created.id}/test`, { method: "POST", token: member.token }), 403);
    const other = await newOwner("other");
    await expectProblem(await call(`/api/v1/notification-channels/${created.id}`, { token: other.token }), 404);
    await expectProblem(await call(`/api/v1/notification-channels/${created.id}`, { method: "DELETE", token: other.token }), 404);
    await expectProblem(await call(`/api/v1/notification-channels/${created.id}/deliveries`, { token: other.token }), 404);
    expect((await json(await call("/api/v1/notification-channels", { token: other.token }), 200)).channels).toEqual([]);
  });
});
