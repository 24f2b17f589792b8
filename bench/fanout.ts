// One Docker event delivered to many SSE subscribers: `subscribers` streams of
// GET /api/v1/hosts/:id/events?action=start are opened and each waits for its `: ready` comment (the
// subscription is live); then one bench container starts and every stream's arrival time of that
// container's `start` event is taken. Latency is measured two ways: from the event's own time
// (Docker's clock: includes the agent's event batching, up to 250 ms by design) and from the first
// subscriber's arrival (the fan-out's own spread). The stack's memory is read before the streams
// open, with all of them open, and after. Beside the open time, the dev server's floor: as many
// `GET /livez` at once (a route that does nothing), so the time the local dev server takes to
// answer that many requests at all is not read as Pier's.
import { createParser } from "eventsource-parser";
import { Pool } from "undici";
import type { Api } from "./api.ts";
import type { DirectDocker } from "./docker.ts";
import { treeRssMiB } from "./footprint.ts";
import { round, summarize, type Summary } from "./stats.ts";

export interface FanoutResult {
  subscribers: number;
  /** Streams the stack did not open (an error status or no headers within 5 minutes), and the first reason. */
  failed_to_open: number;
  open_error?: string;
  ready: number;
  delivered: number;
  open_seconds: number;
  /** As many `GET /livez` sent at once through the same client: the dev server's own time for that crowd. */
  floor_seconds: number;
  from_event_time: Summary;
  from_first_arrival: Summary;
  stack_rss_mib: { before: number; subscribed: number; after: number };
}

export async function runFanout(options: {
  api: Api;
  docker: DirectDocker;
  hostId: string;
  runId: string;
  stackPid: number;
  subscribers: number;
  log: (line: string) => void;
}): Promise<FanoutResult> {
  const { api, subscribers } = options;
  const before = await treeRssMiB(options.stackPid);
  const pool = new Pool(api.url, { connections: subscribers + 8, keepAliveTimeout: 10_000, bodyTimeout: 0, headersTimeout: 300_000 });
  const controller = new AbortController();
  let ready = 0;
  let failed = 0;
  let openError: string | undefined;
  let markReady!: () => void;
  const checkReady = () => ready + failed === subscribers && markReady();
  const allReady = new Promise<void>((resolve) => (markReady = resolve));
  let expectedId = "";
  const arrivals: Array<{ at: number; eventTime: number }> = [];
  let markDelivered!: () => void;
  const allDelivered = new Promise<void>((resolve) => (markDelivered = resolve));

  const subscribe = async () => {
    const res = await pool.request({
      method: "GET",
      path: `/api/v1/hosts/${options.hostId}/events?type=container&action=start`,
      headers: { authorization: `Bearer ${api.token}`, accept: "text/event-stream" },
      signal: controller.signal,
    });
    if (res.statusCode !== 200) throw new Error(`events stream: ${res.statusCode} ${(await res.body.text()).slice(0, 300)}`);
    let seen = false;
    const parser = createParser({
      onComment: (comment) => {
        if (comment.trim() === "ready") {
          ready++;
          checkReady();
        }
      },
      onEvent: (event) => {
        if (seen || event.event !== "docker") return;
        const data = JSON.parse(event.data) as { id: string; time: string };
        if (data.id !== expectedId) return;
        seen = true;
        arrivals.push({ at: Date.now(), eventTime: Date.parse(data.time) });
        if (arrivals.length === ready) markDelivered();
      },
    });
    res.body.setEncoding("utf8");
    res.body.on("data", (text: string) => parser.feed(text));
    res.body.on("error", () => {});
  };

  try {
    const f0 = Date.now();
    await Promise.all(
      Array.from({ length: subscribers }, async () => {
        const res = await pool.request({ method: "GET", path: "/livez", signal: controller.signal });
        await res.body.dump();
        if (res.statusCode !== 204) throw new Error(`/livez: ${res.statusCode}`);
      }),
    );
    const floorSeconds = (Date.now() - f0) / 1000;
    options.log(`${subscribers} GET /livez at once answered in ${floorSeconds.toFixed(1)} s (the dev server's floor)`);

    const t0 = Date.now();
    // Opened a few at a time so the stack sees a crowd arrive, not one burst it must queue.
    const opening = Array.from({ length: subscribers }, (_, i) =>
      new Promise((r) => setTimeout(r, Math.floor(i / 50) * 20)).then(subscribe).catch((error: Error) => {
        failed++;
        openError ??= error.message;
        checkReady();
      }),
    );
    await Promise.all(opening);
    await withTimeout(allReady, 300_000, () => `only ${ready} of ${subscribers} streams said ready within 300 s`);
    if (ready === 0) throw new Error(`no stream opened: ${openError}`);
    const openSeconds = (Date.now() - t0) / 1000;
    const subscribed = await treeRssMiB(options.stackPid);
    options.log(`${subscribers} streams ready in ${openSeconds.toFixed(1)} s; starting one container`);

    // Created first, so the id is known before its start event can arrive.
    const created = await options.docker.json<{ Id: string }>("POST", `/containers/create?name=pier-bench-${options.runId}-fanout`, {
      Image: "pier-test/busybox:latest",
      Cmd: ["sleep", "3600"],
      Labels: { "dev.pier.bench": options.runId },
    });
    expectedId = created.Id;
    await options.docker.json("POST", `/containers/${created.Id}/start`);
    await withTimeout(allDelivered, 60_000, () => `${arrivals.length} of ${ready} ready streams got the event within 60 s`).catch((error) =>
      options.log(String(error.message)),
    );
    const first = Math.min(...arrivals.map((a) => a.at));
    return {
      subscribers,
      failed_to_open: failed,
      open_error: openError,
      ready,
      delivered: arrivals.length,
      open_seconds: round(openSeconds, 1),
      floor_seconds: round(floorSeconds, 1),
      from_event_time: summarize(arrivals.map((a) => a.at - a.eventTime)),
      from_first_arrival: summarize(arrivals.map((a) => a.at - first)),
      stack_rss_mib: { before, subscribed, after: 0 },
    };
  } finally {
    controller.abort();
    await pool.destroy().catch(() => {});
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message())), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
