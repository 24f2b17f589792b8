// A container's files in and out as tars (`docker cp`) end to end: client → Worker → HostRelay →
// the real agent → the real engine's archive endpoint, and back, through the relay's byte
// transfer. What comes out is the file the container holds; what goes in is read back from inside
// the container; each refusal is the engine's, with a status a person can act on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  docker,
  dockerAvailable,
  newOwner,
  onlineHost,
  pierUrl,
  TEST_IMAGE,
  type TestAgent,
  unique,
  withRoles,
  type Roles,
} from "./client.ts";

/** A one-file ustar archive (what `tar -c` writes for one regular file), built here so the test owns its bytes. */
function tarOf(name: string, content: string): Uint8Array<ArrayBuffer> {
  const data = new TextEncoder().encode(content);
  const header = new Uint8Array(512);
  const put = (offset: number, text: string) => header.set(new TextEncoder().encode(text), offset);
  put(0, name);
  put(100, "0000644\0");
  put(108, "0000000\0");
  put(116, "0000000\0");
  put(124, `${data.length.toString(8).padStart(11, "0")}\0`);
  put(
    136,
    `${Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, "0")}\0`,
  );
  put(148, "        ");
  put(156, "0");
  put(257, "ustar\u000000");
  const sum = header.reduce((a, b) => a + b, 0);
  put(148, `${sum.toString(8).padStart(6, "0")}\0 `);
  const body = new Uint8Array(Math.ceil(data.length / 512) * 512);
  body.set(data);
  const out = new Uint8Array(512 + body.length + 1024);
  out.set(header);
  out.set(body, 512);
  return out;
}

/** The entries of an uncompressed tar: name and content. */
function entriesOf(tar: Uint8Array): Map<string, string> {
  const entries = new Map<string, string>();
  const text = new TextDecoder();
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const name = text.decode(header.subarray(0, 100)).replace(/\0.*$/s, "");
    const size = Number.parseInt(text.decode(header.subarray(124, 136)).replace(/\0.*$/s, "").trim() || "0", 8);
    entries.set(name, text.decode(tar.subarray(at + 512, at + 512 + size)));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

describe.skipIf(!dockerAvailable())("a container's files through the relay", () => {
  let roles: Roles;
  let hostId: string;
  let agent: TestAgent | undefined;
  const box = unique("pier-files");
  const readOnly = unique("pier-files-ro");
  const url = (container: string, path: string, extra = "") =>
    `${pierUrl()}/api/v1/hosts/${hostId}/containers/${container}/archive${extra}?path=${encodeURIComponent(path)}`;
  const put = (token: string, container: string, path: string, body: BodyInit) =>
    fetch(url(container, path), {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/x-tar" },
      body,
    });

  beforeAll(async () => {
    roles = await withRoles("files");
    const online = await onlineHost(roles.owner);
    hostId = online.host.id;
    agent = online.agent;
    await docker("run", "-d", "--name", box, TEST_IMAGE, "sh", "-c", "echo 'hello from inside' > /srv.txt && exec sleep 600");
    await docker("run", "-d", "--read-only", "--name", readOnly, TEST_IMAGE, "sleep", "600");
  }, 180_000);

  afterAll(async () => {
    await docker("rm", "-f", box, readOnly).catch(() => "");
    await agent?.agent.stop();
  });

  it("downloads a file as a tar with the engine's stat header, and stats a path", async () => {
    const res = await fetch(url(box, "/srv.txt"), { headers: { authorization: `Bearer ${roles.member}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-tar");
    const stat = JSON.parse(atob(res.headers.get("x-docker-container-path-stat") ?? ""));
    expect(stat).toMatchObject({ name: "srv.txt", size: 18 });
    expect(entriesOf(new Uint8Array(await res.arrayBuffer())).get("srv.txt")).toBe("hello from inside\n");

    const viewerStat = await api(`/api/v1/hosts/${hostId}/containers/${box}/archive/stat?path=/etc`, { token: roles.viewer });
    expect(viewerStat.status).toBe(200);
    expect(viewerStat.body.name).toBe("etc");
    // Go's os.ModeDir bit.
    expect(Math.floor(viewerStat.body.mode / 2 ** 31) % 2).toBe(1);
  });

  it("uploads a tar into a directory, read back from inside the container; the audit log names both", async () => {
    const res = await put(roles.member, box, "/tmp", tarOf("greeting.txt", "uploaded through pier\n"));
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ path: "/tmp" });
    expect(await docker("exec", box, "cat", "/tmp/greeting.txt")).toBe("uploaded through pier");
    const audit = await api("/api/v1/audit-events?limit=20", { token: roles.owner.token });
    const actions = (audit.body.audit_events ?? []).map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["container.archive_get", "container.archive_put"]));
  });

  it("answers each refusal with the engine's reason and a fitting status", async () => {
    const missing = await fetch(url(box, "/no/such/path"), { headers: { authorization: `Bearer ${roles.member}` } });
    expect(missing.status).toBe(404);
    expect((await missing.json()).detail).toMatch(/could not find the file|no such file or directory/i);

    const intoMissing = await put(roles.member, box, "/no/such/dir", tarOf("a.txt", "a"));
    expect(intoMissing.status).toBe(404);

    const intoFile = await put(roles.member, box, "/srv.txt", tarOf("a.txt", "a"));
    expect(intoFile.status).toBe(400);
    expect((await intoFile.json()).detail).toMatch(/not a directory/i);

    const readOnlyRoot = await put(roles.member, readOnly, "/etc", tarOf("a.txt", "a"));
    expect(readOnlyRoot.status).toBe(403);

    const notATar = await put(roles.member, box, "/tmp", "just some text, not an archive at all".repeat(20));
    expect(notATar.status).toBe(400);
    expect((await notATar.json()).detail).toMatch(/not a tar/i);

    const relative = await fetch(url(box, "etc/passwd"), { headers: { authorization: `Bearer ${roles.member}` } });
    // A well-formed request with an invalid value: 422, naming the field and what it must be.
    expect(relative.status).toBe(422);
    expect(JSON.stringify(await relative.json())).toMatch(/absolute path/);
  });

  it("viewers cannot copy files, and another organization's host looks missing", async () => {
    const viewerGet = await fetch(url(box, "/srv.txt"), { headers: { authorization: `Bearer ${roles.viewer}` } });
    expect(viewerGet.status).toBe(403);
    const viewerPut = await put(roles.viewer, box, "/tmp", tarOf("v.txt", "v"));
    expect(viewerPut.status).toBe(403);
    expect(await docker("exec", box, "ls", "/tmp")).not.toMatch(/v\.txt/);

    const stranger = await newOwner("stranger");
    const foreign = await fetch(url(box, "/srv.txt"), { headers: { authorization: `Bearer ${stranger.token}` } });
    expect(foreign.status).toBe(404);
  });
});
