// The interactive terminal end to end, with a real WebSocket client (the `ws` package): client →
// Worker → HostRelay (hibernatable socket) → the real agent → a TTY exec (or an attach) in a real
// busybox container, and back. Checked against the `docker` CLI: the size the TTY reports, the
// process gone once the socket closes, the container left running after a detach.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  addUser,
  api,
  auditEvents,
  docker,
  dockerAvailable,
  type NewHost,
  newOwner,
  onlineHost,
  type Owner,
  pierUrl,
  removeContainers,
  TEST_IMAGE,
  type TestAgent,
  unique,
  waitFor,
  withRoles,
} from "./client.ts";

interface Terminal {
  socket: WebSocket;
  /** Everything the TTY wrote so far, as text. */
  output(): string;
  /** Text control frames received. */
  controls: Array<Record<string, unknown>>;
  /** Waits until the output matches. */
  waitFor(pattern: RegExp): Promise<string>;
  /** Sends keystrokes as one binary frame. */
  type(text: string): void;
  closed: Promise<{ code: number; reason: string }>;
}

type Opened = { ok: true; terminal: Terminal } | { ok: false; status: number; body: string };

/** Opens a terminal socket; a refused upgrade resolves with its HTTP status and body. */
function openTerminal(path: string, headers: Record<string, string> = {}): Promise<Opened> {
  const url = `${pierUrl().replace(/^http/, "ws")}${path}`;
  const socket = new WebSocket(url, { headers });
  let text = "";
  const decoder = new TextDecoder();
  const controls: Array<Record<string, unknown>> = [];
  socket.on("message", (data, isBinary) => {
    if (isBinary) text += decoder.decode(data as Buffer, { stream: true });
    else controls.push(JSON.parse(String(data)));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return new Promise((resolve, reject) => {
    socket.on("open", () =>
      resolve({
        ok: true,
        terminal: {
          socket,
          controls,
          output: () => text,
          waitFor: (pattern) => waitFor(`terminal output ${pattern}`, () => pattern.test(text) && text),
          type: (keys) => socket.send(Buffer.from(keys), { binary: true }),
          closed,
        },
      }),
    );
    socket.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (piece: Buffer) => (body += piece.toString()));
      res.on("end", () => resolve({ ok: false, status: res.statusCode ?? 0, body }));
    });
    socket.on("error", (error) => {
      if (socket.readyState !== WebSocket.CLOSED) reject(error);
    });
  });
}

async function mustOpen(path: string, headers: Record<string, string> = {}): Promise<Terminal> {
  const opened = await openTerminal(path, headers);
  if (!opened.ok) throw new Error(`terminal refused: ${opened.status} ${opened.body}`);
  return opened.terminal;
}

describe.skipIf(!dockerAvailable())("interactive terminal over a WebSocket", () => {
  const tag = randomUUID().slice(0, 8);
  const label = `dev.pier.e2e=term-${tag}`;
  const shellBox = `pier-e2e-term-${tag}`;
  const ttyBox = `pier-e2e-term-tty-${tag}`;
  const stopped = `pier-e2e-term-stopped-${tag}`;
  let owner: Owner;
  let member: string;
  let viewer: string;
  let host: NewHost;
  let agent: TestAgent;
  const terminalPath = (container: string, query = "") => `/api/v1/hosts/${host.id}/containers/${container}/terminal${query}`;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    ({ owner, member, viewer } = await withRoles());
    ({ host, agent } = await onlineHost(owner));
    await docker("run", "-d", "--label", label, "--name", shellBox, TEST_IMAGE, "sleep", "3600");
    await docker("run", "-dit", "--label", label, "--name", ttyBox, TEST_IMAGE, "sh");
    await docker("create", "--label", label, "--name", stopped, TEST_IMAGE, "sleep", "3600");
  });

  afterAll(async () => {
    await agent?.agent.stop();
    await removeContainers(label);
  });

  it("runs a shell: a typed command's output, a resize that stty sees, and the exit code on close; audited without keystrokes", async () => {
    const term = await mustOpen(terminalPath(shellBox), bearer(member));
    // busybox has no bash: the default falls back to /bin/sh.
    await waitFor("the ready frame", () => term.controls.length > 0);
    expect(term.controls[0]).toEqual({ type: "ready", mode: "exec", container: shellBox, cmd: ["/bin/sh"] });

    term.type("echo secret-$((6*7))\n");
    await term.waitFor(/secret-42/);

    term.socket.send(JSON.stringify({ type: "resize", cols: 101, rows: 33 }));
    // The resize and the next keystrokes travel separately: ask until the TTY reports the new size.
    await waitFor(
      "stty to report 33 rows, 101 columns",
      () => {
        term.type("stty size\n");
        return /\r\n33 101\r\n/.test(term.output());
      },
      { interval: 250 },
    );

    // Keystrokes also go as a text control frame, for clients that cannot send binary.
    term.socket.send(JSON.stringify({ type: "input", data: "echo text-$((7*6))\n" }));
    await term.waitFor(/text-42/);

    term.type("exit 3\n");
    expect(await term.closed).toEqual({ code: 1000, reason: JSON.stringify({ exit_code: 3 }) });

    const opened = (await auditEvents(owner, "container.terminal")).filter((e) => e.target_id === shellBox);
    expect(opened).toHaveLength(1);
    expect(opened[0]!.metadata).toMatchObject({ host_id: host.id, mode: "exec" });
    expect(JSON.stringify(opened)).not.toMatch(/secret|stty|exit 3/);
  });

  it("a text frame that is not a control message is answered with an error frame, and the terminal carries on", async () => {
    const term = await mustOpen(terminalPath(shellBox, "?cmd=/bin/sh"), bearer(member));
    term.socket.send("ls\n");
    await waitFor("an error frame", () => term.controls.find((m) => m.type === "error"));
    term.type("echo still-$((40+2))\n");
    await term.waitFor(/still-42/);
    term.socket.close();
    await term.closed;
  });

  it("a closed socket ends the exec: the shell and what it runs are gone from docker top", async () => {
    const term = await mustOpen(terminalPath(shellBox, "?cols=120&rows=40"), bearer(member));
    term.type("sleep 4242\n");
    await waitFor("sleep 4242 in docker top", async () => (await docker("top", shellBox)).includes("sleep 4242"));
    const shells = async () => (await docker("top", shellBox)).split("\n").filter((line) => /\/bin\/sh$|sleep 4242/.test(line)).length;
    expect(await shells()).toBe(2);

    term.socket.close();
    await term.closed;
    await waitFor("the exec's processes to end", async () => (await shells()) === 0);
    // The container itself runs on.
    expect(await docker("inspect", "-f", "{{.State.Running}}", shellBox)).toBe("true");
  });

  it("runs a given command (cmd repeated per argument) and reports its exit code", async () => {
    const term = await mustOpen(
      terminalPath(shellBox, `?cmd=/bin/sh&cmd=-c&cmd=${encodeURIComponent("echo args-ok; exit 7")}`),
      bearer(member),
    );
    expect(await term.closed).toEqual({ code: 1000, reason: JSON.stringify({ exit_code: 7 }) });
    expect(term.output()).toContain("args-ok");
    expect(term.controls[0]).toMatchObject({ cmd: ["/bin/sh", "-c", "echo args-ok; exit 7"] });
  });

  it("attaches to a container's own TTY process; closing detaches, leaving it running; its exit closes with its code", async () => {
    const first = await mustOpen(terminalPath(ttyBox, "?mode=attach"), bearer(member));
    await waitFor("the ready frame", () => first.controls[0]);
    expect(first.controls[0]).toMatchObject({ type: "ready", mode: "attach", cmd: null });
    first.type("echo attached-$((20+22))\n");
    await first.waitFor(/attached-42/);
    first.socket.close();
    await first.closed;
    expect(await docker("inspect", "-f", "{{.State.Running}}", ttyBox)).toBe("true");

    const second = await mustOpen(terminalPath(ttyBox, "?mode=attach"), bearer(member));
    await waitFor("the ready frame", () => second.controls[0]);
    second.type("exit 5\n");
    expect(await second.closed).toEqual({ code: 1000, reason: JSON.stringify({ exit_code: 5 }) });
    expect(await docker("inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", ttyBox)).toBe("false 5");

    expect((await auditEvents(owner, "container.attach")).filter((e) => e.target_id === ttyBox)).toHaveLength(2);
  });

  it("a host whose agent goes away closes its terminals with 1011, and the agent ends their processes first", async () => {
    const { host: second, agent: secondAgent } = await onlineHost(owner);
    try {
      const term = await mustOpen(`/api/v1/hosts/${second.id}/containers/${shellBox}/terminal`, bearer(member));
      term.type("sleep 4545\n");
      await waitFor("sleep 4545 in docker top", async () => (await docker("top", shellBox)).includes("sleep 4545"));
      await secondAgent.agent.stop();
      const closed = await term.closed;
      expect(closed.code).toBe(1011);
      expect(closed.reason).toMatch(/agent/);
      expect(await docker("top", shellBox)).not.toContain("sleep 4545");
    } finally {
      await secondAgent.agent.stop();
    }
  });

  it("refuses before the upgrade: viewers 403, no credential 401, a missing container 404, a stopped one 409, bad sizes 422, plain GET 426", async () => {
    const viewerTry = await openTerminal(terminalPath(shellBox), bearer(viewer));
    expect(viewerTry).toMatchObject({ ok: false, status: 403 });
    expect(await api(`/api/v1/hosts/${host.id}/containers/${shellBox}/terminal/ticket`, { method: "POST", token: viewer })).toMatchObject({
      status: 403,
    });

    expect(await openTerminal(terminalPath(shellBox))).toMatchObject({ ok: false, status: 401 });

    const missing = await openTerminal(terminalPath(`no-such-${tag}`), bearer(member));
    expect(missing).toMatchObject({ ok: false, status: 404 });
    expect((missing as { body: string }).body).toMatch(/no such container/i);

    const notRunning = await openTerminal(terminalPath(stopped), bearer(member));
    expect(notRunning).toMatchObject({ ok: false, status: 409 });
    expect(await openTerminal(terminalPath(stopped, "?mode=attach"), bearer(member))).toMatchObject({ ok: false, status: 409 });

    expect(await openTerminal(terminalPath(shellBox, "?cols=0"), bearer(member))).toMatchObject({ ok: false, status: 422 });
    expect(await openTerminal(terminalPath(shellBox, "?mode=attach&cmd=ls"), bearer(member))).toMatchObject({ ok: false, status: 422 });

    const plain = await api(terminalPath(shellBox), { token: member });
    expect(plain.status).toBe(426);
  });

  it("another organization's host and container look missing", async () => {
    const stranger = await newOwner("stranger");
    expect(await openTerminal(terminalPath(shellBox), bearer(stranger.token))).toMatchObject({ ok: false, status: 404 });
    expect(
      await api(`/api/v1/hosts/${host.id}/containers/${shellBox}/terminal/ticket`, { method: "POST", token: stranger.token }),
    ).toMatchObject({ status: 404 });
    // Their own host id with our container name: the container is not on their host.
    const { host: theirs, agent: theirAgent } = await onlineHost(stranger);
    try {
      // Same engine underneath in this test, so only the host boundary can be checked here.
      expect(await openTerminal(`/api/v1/hosts/${theirs.id}/containers/${shellBox}/terminal`, bearer(owner.token))).toMatchObject({
        ok: false,
        status: 404,
      });
    } finally {
      await theirAgent.agent.stop();
    }
  });

  it("opens with a single-use ticket and no header; a spent ticket, or one for another container, is refused", async () => {
    const issued = await api(`/api/v1/hosts/${host.id}/containers/${shellBox}/terminal/ticket`, { method: "POST", token: member });
    expect(issued.status).toBe(201);
    expect(issued.body.ticket).toMatch(/^ptkt_[0-9a-f]{64}$/);
    const ttl = Date.parse(issued.body.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);

    const term = await mustOpen(terminalPath(shellBox, `?ticket=${issued.body.ticket}`));
    term.type("echo ticket-$((21*2))\n");
    await term.waitFor(/ticket-42/);
    term.type("exit\n");
    expect((await term.closed).code).toBe(1000);

    const again = await openTerminal(terminalPath(shellBox, `?ticket=${issued.body.ticket}`));
    expect(again).toMatchObject({ ok: false, status: 401 });

    const other = await api(`/api/v1/hosts/${host.id}/containers/${shellBox}/terminal/ticket`, { method: "POST", token: member });
    expect(await openTerminal(terminalPath(ttyBox, `?ticket=${other.body.ticket}`))).toMatchObject({ ok: false, status: 401 });
    // Spent by that refusal too: a ticket is tried once.
    expect(await openTerminal(terminalPath(shellBox, `?ticket=${other.body.ticket}`))).toMatchObject({ ok: false, status: 401 });
  });

  it("a dashboard session cookie opens it from the dashboard's origin only (no cross-site WebSocket hijacking)", async () => {
    const name = unique("browser");
    await addUser(owner, "member", name);
    const login = await fetch(`${pierUrl()}/api/v1/auth/browser/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: pierUrl() },
      body: JSON.stringify({ login: name, password: "member-password" }),
    });
    expect(login.status).toBe(200);
    const session = /pier_session=([^;]+)/.exec(login.headers.getSetCookie().join("\n"))![1];
    const cookie = `pier_session=${session}`;

    expect(await openTerminal(terminalPath(shellBox), { cookie, origin: "http://evil.example" })).toMatchObject({ ok: false, status: 403 });

    const term = await mustOpen(terminalPath(shellBox), { cookie, origin: pierUrl() });
    term.type("echo cookie-$((40+2)); exit\n");
    await term.waitFor(/cookie-42/);
    expect((await term.closed).code).toBe(1000);
  });

  it("an expired ticket is refused", async () => {
    const issued = await api(`/api/v1/hosts/${host.id}/containers/${shellBox}/terminal/ticket`, { method: "POST", token: member });
    expect(issued.status).toBe(201);
    const expiresAt = Date.parse(issued.body.expires_at);
    await waitFor("the ticket to expire", () => Date.now() > expiresAt + 100, { timeout: 60_000, interval: 250 });
    expect(await openTerminal(terminalPath(shellBox, `?ticket=${issued.body.ticket}`))).toMatchObject({ ok: false, status: 401 });
  });
});
