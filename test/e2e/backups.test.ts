// Volume backups end to end: files written into a volume, backed up through the real agent and the
// relay's byte transfer to s3rver and to the Worker's R2 bucket, files deleted, restored (into the
// same volume, and into a new one on another host), read back with the docker CLI. A corrupted
// artifact is refused by its SHA-256, and a store that fails mid-upload leaves no good backup.
import { createHash, randomUUID } from "node:crypto";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AwsClient } from "aws4fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startS3, type TestS3 } from "../fixtures/s3.ts";
import {
  api,
  attachAgent,
  docker,
  dockerAvailable,
  newHost,
  newOwner,
  TEST_IMAGE,
  waitFor,
  waitForStatus,
  type Owner,
  type TestAgent,
} from "./client.ts";

const BIG_BYTES = 12 * 1024 * 1024;

describe.skipIf(!dockerAvailable())("volume backups and restores", () => {
  const tag = randomUUID().slice(0, 8);
  const volume = `pier-e2e-bk-${tag}`;
  const copy = `pier-e2e-bk-copy-${tag}`;
  let s3: TestS3;
  let owner: Owner;
  let hostA: Awaited<ReturnType<typeof newHost>>;
  let hostB: Awaited<ReturnType<typeof newHost>>;
  const agents: TestAgent[] = [];
  let s3Destination: { id: string };
  let proxy: Server | undefined;
  let bigSha = "";
  const s3client = new AwsClient({ accessKeyId: "S3RVER", secretAccessKey: "S3RVER", service: "s3", region: "us-east-1" });

  const inVolume = (name: string, script: string) => docker("run", "--rm", "-v", `${name}:/v`, TEST_IMAGE, "sh", "-c", script);
  const finished = (taskId: string) =>
    waitFor(
      `task ${taskId} to end`,
      async () => {
        const task = (await api(`/api/v1/tasks/${taskId}`, { token: owner.token })).body;
        return task.status === "queued" || task.status === "running" ? undefined : task;
      },
      { timeout: 240_000 },
    );
  const backup = async (body: Record<string, unknown>) => {
    const started = await api("/api/v1/backups", { token: owner.token, body });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const task = await finished(started.body.task_id);
    const record = (await api(`/api/v1/backups/${started.body.backup.id}`, { token: owner.token })).body;
    return { task, record };
  };
  const restore = async (backupId: string, into: Record<string, unknown>) => {
    const started = await api(`/api/v1/backups/${backupId}/restore`, { token: owner.token, body: { into } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    return finished(started.body.task_id);
  };
  const s3Object = async (key: string) => {
    const res = await s3client.fetch(`${s3.endpoint}/pier-e2e/${key.split("/").map(encodeURIComponent).join("/")}`);
    return res.ok ? new Uint8Array(await res.arrayBuffer()) : null;
  };
  const filesOf = (name: string) => inVolume(name, "cd /v && find . -type f | sort && cat a.txt d/b .hidden && sha256sum big.bin");

  beforeAll(async () => {
    s3 = await startS3(["pier-e2e"]);
    owner = await newOwner();
    hostA = await newHost(owner);
    hostB = await newHost(owner);
    agents.push(attachAgent(hostA.agent_token), attachAgent(hostB.agent_token));
    await waitForStatus(owner, hostA.id, "online");
    await waitForStatus(owner, hostB.id, "online");
    const created = await api("/api/v1/backup-destinations", {
      token: owner.token,
      body: {
        name: "s3rver",
        endpoint: s3.endpoint,
        bucket: "pier-e2e",
        access_key_id: "S3RVER",
        secret_access_key: "S3RVER",
        prefix: `e2e/${tag}`,
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    s3Destination = created.body;
    await docker("volume", "create", "--label", `dev.pier.e2e=bk-${tag}`, volume);
    await inVolume(
      volume,
      `echo hello > /v/a.txt && mkdir -p /v/d && echo nested > /v/d/b && echo secret > /v/.hidden && head -c ${BIG_BYTES} /dev/urandom > /v/big.bin`,
    );
    bigSha = (await inVolume(volume, "sha256sum /v/big.bin")).split(" ")[0]!;
  });

  afterAll(async () => {
    for (const a of agents) await a.agent.stop();
    await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)));
    for (const v of (await docker("volume", "ls", "-q")).split("\n").filter((n) => n.includes(tag)))
      await docker("volume", "rm", "-f", v).catch(() => undefined);
    await s3?.close();
  });

  it("backs a volume up to s3rver, restores it over deleted files, and keeps no safety copy or helper behind", async () => {
    const { task, record } = await backup({
      target: { kind: "volume", host_id: hostA.id, name: volume },
      destination_id: s3Destination.id,
    });
    expect(task, JSON.stringify(task)).toMatchObject({ kind: "backup", status: "succeeded", progress: 100 });
    expect(task.result.bytes_done).toBeGreaterThan(BIG_BYTES);
    expect(task.result.log.join("\n")).toMatch(/Reading volume/);
    expect(record).toMatchObject({ status: "succeeded", encrypted: false, format: "tar", destination_id: s3Destination.id });
    expect(record.key).toMatch(new RegExp(`^e2e/${tag}/pier/${owner.organizationId}/volume/${volume}/\\d{8}T\\d{6}Z-${record.id}\\.tar$`));
    // The store holds exactly what the record says, and the manifest beside it.
    const stored = await s3Object(record.key);
    expect(stored!.length).toBe(record.size_bytes);
    expect(createHash("sha256").update(stored!).digest("hex")).toBe(record.sha256);
    const manifest = JSON.parse(new TextDecoder().decode((await s3Object(`${record.key}.manifest.json`))!));
    expect(manifest).toMatchObject({ id: record.id, sha256: record.sha256, size: record.size_bytes, encryption: "none", format: "tar" });

    await inVolume(volume, "rm -rf /v/a.txt /v/d && echo junk > /v/junk.txt");
    const restored = await restore(record.id, { kind: "same" });
    expect(restored, JSON.stringify(restored)).toMatchObject({ kind: "restore", status: "succeeded" });
    expect(await filesOf(volume)).toBe(`./.hidden\n./a.txt\n./big.bin\n./d/b\nhello\nnested\nsecret\n${bigSha}  big.bin`);
    expect((await docker("volume", "ls", "-q")).split("\n").filter((n) => n.startsWith(`${volume}.pier-safety`))).toEqual([]);
    expect(await docker("ps", "-aq", "--filter", `label=dev.pier.backup-helper=${volume}`)).toBe("");

    // A download for the admin is the tar itself.
    const download = await fetch(`${(await import("./client.ts")).pierUrl()}/api/v1/backups/${record.id}/download`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    expect(download.status).toBe(200);
    expect(
      createHash("sha256")
        .update(new Uint8Array(await download.arrayBuffer()))
        .digest("hex"),
    ).toBe(record.sha256);
  }, 300_000);

  it("backs up to R2 encrypted and restores into a new volume on another host", async () => {
    const { task, record } = await backup({ target: { kind: "volume", host_id: hostA.id, name: volume } });
    expect(task.status, JSON.stringify(task)).toBe("succeeded");
    expect(record).toMatchObject({ status: "succeeded", encrypted: true, destination_id: "default" });
    expect(record.key).toMatch(/\.tar\.enc$/);
    const restored = await restore(record.id, { kind: "new", name: copy, host_id: hostB.id });
    expect(restored, JSON.stringify(restored)).toMatchObject({
      status: "succeeded",
      result: { restored: { host_id: hostB.id, name: copy } },
    });
    expect(await filesOf(copy)).toBe(`./.hidden\n./a.txt\n./big.bin\n./d/b\nhello\nnested\nsecret\n${bigSha}  big.bin`);
    // Not over an existing volume.
    const again = await restore(record.id, { kind: "new", name: copy, host_id: hostB.id });
    expect(again).toMatchObject({ status: "failed", message: expect.stringMatching(/exists already/) });
  }, 300_000);

  it("refuses a corrupted artifact and leaves the volume as it was", async () => {
    const { record } = await backup({ target: { kind: "volume", host_id: hostA.id, name: volume }, destination_id: s3Destination.id });
    expect(record.status).toBe("succeeded");
    const stored = (await s3Object(record.key))!;
    stored[Math.floor(stored.length / 2)]! ^= 0xff;
    const put = await s3client.fetch(`${s3.endpoint}/pier-e2e/${record.key}`, { method: "PUT", body: stored });
    expect(put.ok).toBe(true);
    // Downloaded over HTTP: refused before a byte is sent, naming the mismatch.
    const download = await fetch(`${(await import("./client.ts")).pierUrl()}/api/v1/backups/${record.id}/download`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    expect(download.status).toBe(409);
    expect((await download.json()).detail).toMatch(/cannot be downloaded: .*SHA-256.*corrupted/);

    await inVolume(volume, "echo changed > /v/a.txt");
    const refused = await restore(record.id, { kind: "same" });
    expect(refused).toMatchObject({ status: "failed", message: expect.stringMatching(/^Refused: .*SHA-256.*corrupted/) });
    expect(await inVolume(volume, "cat /v/a.txt")).toBe("changed");
    await inVolume(volume, "echo hello > /v/a.txt");
  }, 300_000);

  it("reports a store that fails mid-upload without listing a good backup, and leaves nothing in it", async () => {
    // A proxy in front of s3rver that lets the first part through and then drops every upload.
    let uploaded = 0;
    proxy = createServer((req, res) => {
      if (req.method === "PUT" && uploaded > 4 * 1024 * 1024) return req.socket.destroy();
      req.on("data", (d: Buffer) => {
        if (req.method === "PUT") uploaded += d.length;
      });
      const upstream = request({ host: "127.0.0.1", port: s3.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy!.listen(0, "127.0.0.1", r));
    const flaky = await api("/api/v1/backup-destinations", {
      token: owner.token,
      body: {
        name: "flaky",
        endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
        bucket: "pier-e2e",
        access_key_id: "S3RVER",
        secret_access_key: "S3RVER",
        prefix: `flaky/${tag}`,
      },
    });
    expect(flaky.status, JSON.stringify(flaky.body)).toBe(201);
    const { task, record } = await backup({ target: { kind: "volume", host_id: hostA.id, name: volume }, destination_id: flaky.body.id });
    expect(task.status).toBe("failed");
    expect(task.result.log.join("\n")).toMatch(/Part 2 failed .*trying it once more/);
    expect(record).toMatchObject({ status: "failed", error: expect.stringMatching(/nothing was kept/), sha256: null });
    const good = (await api(`/api/v1/backups?destination_id=${flaky.body.id}&status=succeeded`, { token: owner.token })).body;
    expect(good.backups).toEqual([]);
    const listing = await (await s3client.fetch(`${s3.endpoint}/pier-e2e/?list-type=2&prefix=flaky/`)).text();
    expect(listing).not.toContain("<Key>");
  }, 300_000);
});
