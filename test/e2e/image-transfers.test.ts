// Image save and load end to end through the relay's byte transfer: client → Worker → HostRelay →
// the real agent → the real engine, and back. A tar saved through Pier loads back; a client that
// goes away in the middle of a large save stops the host's read; bad input is a clear 4xx.
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  docker,
  dockerAvailable,
  newOwner,
  onlineHost,
  pierUrl,
  run,
  TEST_IMAGE,
  unique,
  waitFor,
  type Owner,
  type TestAgent,
} from "./client.ts";

/** Large enough that the save is still running when the client goes away. */
const BIG_MB = 64;

const enc = (ref: string) => encodeURIComponent(ref);

describe.skipIf(!dockerAvailable())("image save and load through the relay", () => {
  let owner: Owner;
  let hostId: string;
  let inProcess: TestAgent | undefined;
  const big = `pier-test/big-${unique("x").toLowerCase()}:latest`;
  const copy = `pier-test/copy-${unique("x").toLowerCase()}:v1`;
  const workDir = `/tmp/${unique("pier-big")}`;

  beforeAll(async () => {
    owner = await newOwner();
    const online = await onlineHost(owner);
    hostId = online.host.id;
    inProcess = online.agent;
    // A 200 MB layer of random bytes (incompressible), imported without a registry.
    await run(
      "sh",
      [
        "-c",
        `mkdir -p ${workDir} && head -c ${BIG_MB}M /dev/urandom > ${workDir}/blob && tar -C ${workDir} -c blob | docker import - ${big}`,
      ],
      {
        timeout: 120_000,
      },
    );
    await rm(workDir, { recursive: true, force: true });
  });

  afterAll(async () => {
    await inProcess?.agent.stop();
    await docker("rmi", "-f", big, copy).catch(() => "");
  });

  it("a tar saved through Pier loads back; the audit log names both", async () => {
    await docker("tag", TEST_IMAGE, copy);
    const saved = await fetch(`${pierUrl()}/api/v1/hosts/${hostId}/images/${enc(copy)}/save`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    expect(saved.status).toBe(200);
    const tar = new Uint8Array(await saved.arrayBuffer());
    await docker("rmi", copy);
    const loaded = await fetch(`${pierUrl()}/api/v1/hosts/${hostId}/images/load`, {
      method: "POST",
      headers: { authorization: `Bearer ${owner.token}`, "content-type": "application/x-tar" },
      body: tar,
    });
    const body = await loaded.json();
    expect(loaded.status, JSON.stringify(body)).toBe(200);
    expect(body.images).toContain(copy);
    expect(body.bytes).toBe(tar.length);
    expect(await docker("image", "inspect", "--format", "{{.Id}}", copy)).toMatch(/^sha256:/);
    const audit = await api("/api/v1/audit-events?limit=20", { token: owner.token });
    const actions = (audit.body.audit_events ?? []).map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["image.save", "image.load"]));
  });

  it("a client that goes away stops the host's read: the agent's transfer is gone", async () => {
    const controller = new AbortController();
    const res = await fetch(`${pierUrl()}/api/v1/hosts/${hostId}/images/${enc(big)}/save`, {
      headers: { authorization: `Bearer ${owner.token}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    expect(inProcess!.agent.status().transfers).toBe(1);
    controller.abort();
    await waitFor(
      "the agent's transfer to end",
      () => inProcess!.agent.status().transfers === 0 && inProcess!.agent.status().inflight === 0,
    );
  });

  it("answers bad input with a clear 4xx", async () => {
    const missing = await api(`/api/v1/hosts/${hostId}/images/${enc("pier-test/none-such:1")}/save`, { token: owner.token });
    expect(missing.status).toBe(404);
    const garbage = await fetch(`${pierUrl()}/api/v1/hosts/${hostId}/images/load`, {
      method: "POST",
      headers: { authorization: `Bearer ${owner.token}`, "content-type": "application/x-tar" },
      body: "this is not a tar archive at all",
    });
    expect(garbage.status).toBe(400);
    expect((await garbage.json()).detail).toMatch(/not a tar/);
    const viewer = await api("/api/v1/hosts/hst_00000000000000000000/images/x/save", { token: owner.token });
    expect(viewer.status).toBe(404);
  });
});
