// Notifications end to end: real containers dying on a real Docker engine, seen by a real agent,
// announced in the notification center, over SSE, and at a local receiver standing in for Slack,
// Discord, Telegram, Resend and a user's webhook (each checked against the payload its provider
// documents, the webhook against its signature). A channel answering 500 is retried and logged
// without holding up anything else.
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  attachAgent,
  docker,
  dockerAvailable,
  type NewHost,
  newHost,
  newOwner,
  onlineHost,
  type Owner,
  pierUrl,
  readSse,
  removeContainers,
  TEST_IMAGE,
  type TestAgent,
  unique,
  waitFor,
  waitForStatus,
} from "./client.ts";
import { startReceiver, type Receiver } from "./receiver.ts";

const LABEL = `dev.pier.e2e=${process.pid}-notifications`;
const SECRET = "whsec-e2e-0123456789abcdef";
const BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

describe.skipIf(!dockerAvailable())("notifications", () => {
  let owner: Owner;
  let receiver: Receiver;
  /** The container whose death the first test causes; the retry test follows its delivery. */
  let crash: string;
  let host: NewHost;
  let agent: TestAgent;
  const channels: Record<string, string> = {};

  beforeAll(async () => {
    owner = await newOwner("notify");
    receiver = await startReceiver();
    ({ host, agent } = await onlineHost(owner, { agent: { metricsIntervalMs: 0 } }));
    await agent.agent.eventsReady;
    // The flaky channel fails twice before it works.
    receiver.respond("/flaky", 500, 500, 200);
    const add = async (body: Record<string, unknown>) => {
      const res = await api("/api/v1/notification-channels", {
        token: owner.token,
        body: { events: ["container.died", "container.restart_loop"], ...body },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      channels[body.name as string] = res.body.id;
    };
    await add({ type: "slack", name: "slack", config: { webhook_url: `${receiver.url}/slack/T000/B000/XXXX` } });
    await add({ type: "discord", name: "discord", config: { webhook_url: `${receiver.url}/discord/123/abc` } });
    await add({
      type: "telegram",
      name: "telegram",
      config: { bot_token: BOT_TOKEN, chat_id: "-1001234", api_base_url: `${receiver.url}/telegram` },
    });
    await add({
      type: "email",
      name: "email",
      config: {
        api_key: "re_e2e_123456789",
        from: "Pier <pier@example.com>",
        to: ["ops@example.com"],
        api_base_url: `${receiver.url}/resend`,
      },
    });
    await add({ type: "webhook", name: "webhook", config: { url: `${receiver.url}/hook`, secret: SECRET } });
    await add({ type: "webhook", name: "flaky", config: { url: `${receiver.url}/flaky`, secret: SECRET } });
    // Not subscribed to container deaths: must hear nothing of them.
    await add({
      type: "webhook",
      name: "deploys-only",
      events: ["deployment.failed"],
      config: { url: `${receiver.url}/deploys-only`, secret: SECRET },
    });
  });

  afterAll(async () => {
    await agent?.agent.stop();
    await removeContainers(LABEL);
    await receiver?.close();
  });

  it("announces a container that dies unexpectedly, in the inbox, over SSE and on every channel, once; a stop someone asked for is not news", async () => {
    const stream = await fetch(`${pierUrl()}/api/notifications/stream`, { headers: { authorization: `Bearer ${owner.token}` } });
    expect(stream.status).toBe(200);

    // A stop someone asked for first, then a crash: events are handled in order, so once the
    // crash is announced the stop has been looked at too.
    const calm = unique("calm");
    await docker("run", "-d", "--label", LABEL, "--name", calm, TEST_IMAGE, "sleep", "600");
    await docker("stop", "-t", "1", calm);
    crash = unique("crash");
    await docker("run", "-d", "--label", LABEL, "--name", crash, TEST_IMAGE, "sh", "-c", "sleep 1; exit 3");

    const frames = await readSse(stream, (e) => e.data?.title?.includes(crash), 60_000);
    const frame = frames.find((e) => e.data.title.includes(crash))!;
    expect(frame.data).toMatchObject({
      type: "notification",
      kind: "container.died",
      severity: "error",
      title: `Container ${crash} died on ${host.name}`,
    });
    expect(frame.data.message).toContain("exited unexpectedly with code 3");
    expect(frame.id).toMatch(/^\d+-ntf_/);

    const inbox = await api("/api/v1/notifications?kind=container.died", { token: owner.token });
    const mine = inbox.body.notifications.filter((n: any) => n.data?.container_name === crash || n.data?.container_name === calm);
    expect(mine.map((n: any) => n.data.container_name)).toEqual([crash]);
    expect(mine[0]).toMatchObject({ target_type: "container", data: { exit_code: 3, oom: false, host_id: host.id } });

    // Every channel, in its provider's format.
    const isCrash = (r: { raw: string }) => r.raw.includes(crash);
    const [slack] = await receiver.waitFor("/slack/T000/B000/XXXX", 1, isCrash);
    expect(slack!.headers["content-type"]).toContain("application/json");
    expect(slack!.body).toMatchObject({
      text: expect.stringContaining(crash),
      blocks: [
        { type: "header", text: { type: "plain_text" } },
        { type: "section", text: { type: "mrkdwn", text: expect.stringContaining("code 3") } },
        { type: "context" },
      ],
    });

    const [discord] = await receiver.waitFor("/discord/123/abc", 1, isCrash);
    expect(discord!.body).toMatchObject({
      username: "Pier",
      embeds: [
        {
          title: expect.stringContaining(crash),
          description: expect.stringContaining("code 3"),
          color: 0xef4444,
          timestamp: expect.any(String),
          footer: { text: "container.died" },
        },
      ],
    });
    expect(discord!.body.embeds[0].title.length).toBeLessThanOrEqual(256);

    const [telegram] = await receiver.waitFor(`/telegram/bot${BOT_TOKEN}/sendMessage`, 1, isCrash);
    expect(telegram!.body).toEqual({ chat_id: "-1001234", text: expect.stringContaining(crash), disable_web_page_preview: true });

    const [email] = await receiver.waitFor("/resend/emails", 1, isCrash);
    expect(email!.headers.authorization).toBe("Bearer re_e2e_123456789");
    expect(email!.headers["idempotency-key"]).toMatch(/^dlv_/);
    expect(email!.body).toMatchObject({
      from: "Pier <pier@example.com>",
      to: ["ops@example.com"],
      subject: expect.stringContaining(crash),
      text: expect.stringContaining("code 3"),
      html: expect.stringContaining("<h2>"),
    });

    const [hook] = await receiver.waitFor("/hook", 1, isCrash);
    const signature = `sha256=${createHmac("sha256", SECRET).update(hook!.raw).digest("hex")}`;
    expect(hook!.headers["x-pier-signature"]).toBe(signature);
    expect(hook!.headers["x-pier-event"]).toBe("container.died");
    expect(hook!.body).toMatchObject({
      event: "container.died",
      kind: "container.died",
      notification_id: mine[0].id,
      organization_id: owner.organizationId,
      data: { container_name: crash },
    });

    // Exactly once per channel, and nothing for the calm stop or the channel not subscribed.
    for (const path of ["/slack/T000/B000/XXXX", "/discord/123/abc", `/telegram/bot${BOT_TOKEN}/sendMessage`, "/resend/emails", "/hook"]) {
      expect(
        receiver.received.filter((r) => r.path === path && isCrash(r)),
        path,
      ).toHaveLength(1);
    }
    expect(receiver.received.filter((r) => r.raw.includes(calm))).toEqual([]);
    expect(receiver.received.filter((r) => r.path === "/deploys-only")).toEqual([]);
  });

  it("announces a failed deployment over SSE, in the inbox and on a channel, once", async () => {
    const hook = await api("/api/v1/notification-channels", {
      token: owner.token,
      body: {
        type: "webhook",
        name: "deploys",
        events: ["deployment.failed", "deployment.succeeded"],
        config: { url: `${receiver.url}/deploys`, secret: SECRET },
      },
    });
    expect(hook.status).toBe(201);
    const project = await api("/api/v1/projects", { token: owner.token, body: { name: unique("notify") } });
    expect(project.status, JSON.stringify(project.body)).toBe(201);
    // An image that is not on the host, with pulls forbidden: the deployment fails at once.
    const app = await api("/api/v1/applications", {
      token: owner.token,
      body: { project_id: project.body.id, name: "doomed", image: "pier-test/not-there:latest", pull_policy: "never" },
    });
    expect(app.status, JSON.stringify(app.body)).toBe(201);
    const stream = await fetch(`${pierUrl()}/api/v1/notifications/stream`, { headers: { authorization: `Bearer ${owner.token}` } });
    const started = await api(`/api/v1/applications/${app.body.id}/deployments`, { token: owner.token, method: "POST" });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const deploymentId = started.body.id;

    const frames = await readSse(stream, (e) => e.data?.target_id === deploymentId, 120_000);
    expect(frames.at(-1)!.data).toMatchObject({
      type: "notification",
      kind: "deployment.failed",
      severity: "error",
      title: expect.stringContaining("doomed"),
      message: expect.stringContaining(deploymentId),
    });
    const [delivered] = await receiver.waitFor("/deploys");
    expect(delivered!.headers["x-pier-signature"]).toBe(`sha256=${createHmac("sha256", SECRET).update(delivered!.raw).digest("hex")}`);
    expect(delivered!.body).toMatchObject({
      event: "deployment.failed",
      target_type: "deployment",
      target_id: deploymentId,
      data: { application_id: app.body.id, status: "failed" },
    });
    const inbox = await api("/api/v1/notifications?kind=deployment.failed", { token: owner.token });
    expect(inbox.body.notifications.filter((n: any) => n.target_id === deploymentId)).toHaveLength(1);
    // The deployment's task followed it to the end.
    expect((await api(`/api/v1/tasks/${started.body.task_id}`, { token: owner.token })).body).toMatchObject({
      kind: "deployment",
      status: "failed",
      finished_at: expect.any(String),
    });
    expect(receiver.received.filter((r) => r.path === "/deploys")).toHaveLength(1);
  });

  it("retries a channel answering 500 with backoff and logs each attempt, without holding up the others", async () => {
    // The flaky channel got the crash too: two 500s, then a 200. (Only the crash's delivery: the
    // engine is shared, so another file's container may die meanwhile and be announced here too.)
    const attempts = await receiver.waitFor("/flaky", 3, (r) => r.raw.includes(crash));
    expect(attempts.map((r) => r.status)).toEqual([500, 500, 200]);
    // The same delivery each time (same id, same signature).
    expect(new Set(attempts.map((r) => r.body.id)).size).toBe(1);
    const log = await waitFor("the flaky delivery to be logged as succeeded", async () => {
      const res = await api(`/api/v1/notification-channels/${channels.flaky}/deliveries`, { token: owner.token });
      const d = res.body.deliveries.find((x: any) => x.id === attempts[0]!.body.id);
      return d?.status === "succeeded" ? d : undefined;
    });
    expect(log).toMatchObject({ status: "succeeded", attempts: 3, last_status_code: 200, last_error: null, kind: "container.died" });
    // Meanwhile every other channel had delivered the same notification on its first attempt.
    const slackLog = await api(`/api/v1/notification-channels/${channels.slack}/deliveries`, { token: owner.token });
    const slackCrash = slackLog.body.deliveries.find((d: any) => d.notification_id === log.notification_id);
    expect(slackCrash).toMatchObject({ status: "succeeded", attempts: 1, kind: "container.died" });

    // A channel that keeps failing with a 4xx is not retried: the provider refused the request.
    receiver.respond("/gone", 404);
    const gone = await api("/api/v1/notification-channels", {
      token: owner.token,
      body: { type: "slack", name: "gone", config: { webhook_url: `${receiver.url}/gone` } },
    });
    const test = await api(`/api/v1/notification-channels/${gone.body.id}/test`, { method: "POST", token: owner.token });
    expect(test.status).toBe(202);
    expect(test.body).toMatchObject({ status: "pending", attempts: 0, kind: "test" });
    const failed = await waitFor("the refused test delivery to be logged", async () => {
      const res = await api(`/api/v1/notification-channels/${gone.body.id}/deliveries`, { token: owner.token });
      // The channel takes every kind, so another file's container dying may be announced on it too.
      const sent = res.body.deliveries.find((d: any) => d.kind === "test");
      return sent?.status === "failed" ? sent : undefined;
    });
    expect(failed).toMatchObject({ attempts: 1, last_status_code: 404, last_error: expect.stringContaining("HTTP 404") });
  });

  it("spots a container restarting in a loop and says so once", async () => {
    const looping = unique("loop");
    await docker("run", "-d", "--label", LABEL, "--name", looping, "--restart", "always", TEST_IMAGE, "sh", "-c", "exit 1");
    const note = await waitFor(
      "the restart loop notification",
      async () => {
        const res = await api("/api/v1/notifications?kind=container.restart_loop", { token: owner.token });
        return res.body.notifications.find((n: any) => n.data?.container_name === looping);
      },
      { timeout: 90_000 },
    );
    expect(note).toMatchObject({ kind: "container.restart_loop", severity: "error", data: { deaths: 3, exit_code: 1 } });
    await docker("rm", "-f", looping);
    const all = await api("/api/v1/notifications?kind=container.restart_loop", { token: owner.token });
    expect(all.body.notifications.filter((n: any) => n.data?.container_name === looping)).toHaveLength(1);
  });

  it("announces a host that stays disconnected, and its return", async () => {
    // The e2e stack announces a disconnect after 1 s (PIER_HOST_DISCONNECT_NOTICE_MS); 60 s by default.
    const other = await newHost(owner);
    const first = attachAgent(other.agent_token, { metricsIntervalMs: 0, events: false, statsCache: false });
    await waitForStatus(owner, other.id, "online");
    await first.agent.stop();
    const gone = await waitFor(
      "the disconnect notification",
      async () =>
        (await api("/api/v1/notifications?kind=host.disconnected", { token: owner.token })).body.notifications.find(
          (n: any) => n.target_id === other.id,
        ),
      { timeout: 90_000 },
    );
    expect(gone).toMatchObject({ title: `Host ${other.name} disconnected`, severity: "warning" });
    const second = attachAgent(other.agent_token, { metricsIntervalMs: 0, events: false, statsCache: false });
    try {
      const back = await waitFor(
        "the back-online notification",
        async () =>
          (await api("/api/v1/notifications?kind=host.online", { token: owner.token })).body.notifications.find(
            (n: any) => n.target_id === other.id,
          ),
        { timeout: 90_000 },
      );
      expect(back).toMatchObject({ title: `Host ${other.name} is back online`, data: { was: "disconnected" } });
    } finally {
      await second.agent.stop();
    }
  });

  it("shows another organization none of it", async () => {
    const stranger = await newOwner("stranger");
    const inbox = await api("/api/v1/notifications", { token: stranger.token });
    expect(inbox.body.notifications).toEqual([]);
    const compat = await api("/api/notifications", { token: stranger.token });
    expect(compat.body).toMatchObject({ notifications: [], total: 0, data: [] });
    const res = await api(`/api/v1/notification-channels/${channels.slack}/deliveries`, { token: stranger.token });
    expect(res.status).toBe(404);
  });
});
