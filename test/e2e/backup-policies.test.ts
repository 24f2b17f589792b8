// Backup policies end to end: the shared stack, a real agent and Docker engine, a volume with a
// file in it, and s3rver as an S3-compatible destination. A policy that keeps two backups runs
// three times: the oldest of its backups is deleted from the store and from Pier's records, and
// nothing else is — not an on-demand backup of the same volume, older than all of them.
import { AwsClient } from "aws4fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3_ACCESS_KEY, S3_SECRET_KEY, startS3, type TestS3 } from "../fixtures/s3.ts";
import {
  api,
  attachAgent,
  docker,
  dockerAvailable,
  newHost,
  newOwner,
  type Owner,
  type TestAgent,
  TEST_IMAGE,
  unique,
  waitForStatus,
} from "./client.ts";

if (!dockerAvailable() && process.env.CI === "true") throw new Error("the backup policy e2e tests need Docker");

const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 120_000, interval: 500 });

describe.skipIf(!dockerAvailable())("backup policies against a real engine and an S3-compatible store", () => {
  let s3: TestS3;
  let owner: Owner;
  let host: Awaited<ReturnType<typeof newHost>>;
  let agent: TestAgent;
  const volume = unique("bpol-data");

  beforeAll(async () => {
    s3 = await startS3(["pier-policies"]);
    owner = await newOwner();
    host = await newHost(owner);
    agent = attachAgent(host.agent_token);
    await waitForStatus(owner, host.id, "online");
    await docker("volume", "create", "--label", "dev.pier.test=backup-policies", volume);
    await docker("run", "--rm", "-v", `${volume}:/data`, TEST_IMAGE, "sh", "-c", "echo first > /data/file.txt");
  });

  afterAll(async () => {
    await agent?.agent.stop();
    await docker("volume", "rm", "-f", volume).catch(() => undefined);
    await s3?.close();
  });

  it("runs a policy on demand, and after each success keeps exactly the newest two of its own backups", async () => {
    const destination = await api("/api/v1/backup-destinations", {
      token: owner.token,
      body: {
        name: unique("s3"),
        endpoint: s3.endpoint,
        bucket: "pier-policies",
        region: "us-east-1",
        access_key_id: S3_ACCESS_KEY,
        secret_access_key: S3_SECRET_KEY,
        force_path_style: true,
        encrypt: false,
      },
    });
    expect(destination.status, JSON.stringify(destination.body)).toBe(201);

    // An on-demand backup first: older than all of the policy's, and never the policy's to delete.
    const onDemand = await api("/api/v1/backups", {
      token: owner.token,
      body: { target: { kind: "volume", host_id: host.id, name: volume }, destination_id: destination.body.id },
    });
    expect(onDemand.status, JSON.stringify(onDemand.body)).toBe(202);
    await poll(async () => (await api(`/api/v1/backups/${onDemand.body.backup.id}`, { token: owner.token })).body.status).toBe("succeeded");

    const created = await api("/api/v1/backup-policies", {
      token: owner.token,
      body: {
        target: { kind: "volume", host_id: host.id, name: volume },
        schedule: "0 3 * * *",
        timezone: "Europe/Berlin",
        keep_last: 2,
        destination_id: destination.body.id,
        notify: ["backup.succeeded", "backup.failed"],
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const policy = created.body;

    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await api(`/api/v1/backup-policies/${policy.id}/run`, { method: "POST", token: owner.token });
      expect(run.status, JSON.stringify(run.body)).toBe(202);
      expect(run.body).toMatchObject({ trigger: "manual", status: "running", backup_id: expect.stringMatching(/^bak_/) });
      made.push(run.body.backup_id);
      await poll(async () => (await api(`/api/v1/backup-policies/${policy.id}`, { token: owner.token })).body.last_run?.status).toBe(
        "succeeded",
      );
    }

    const runs = (await api(`/api/v1/backup-policies/${policy.id}/runs`, { token: owner.token })).body.runs;
    const own = (await api(`/api/v1/backups?policy_id=${policy.id}`, { token: owner.token })).body.backups;
    const newestTwo = made.slice(-2);
    expect(own.map((b: any) => b.id).sort()).toEqual([...newestTwo].sort());
    const pruned = runs.flatMap((r: any) => r.pruned);
    expect(pruned.sort()).toEqual(made.slice(0, -2).sort());

    // Gone from the store as well as the records; the kept ones and the on-demand one are there.
    const store = new AwsClient({ accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY, service: "s3", region: "us-east-1" });
    const listing = await (await store.fetch(`${s3.endpoint}/pier-policies?list-type=2`)).text();
    for (const b of own) expect(listing).toContain(b.key);
    expect(listing).toContain(onDemand.body.backup.key);
    const all = (await api(`/api/v1/backups?target_id=${volume}`, { token: owner.token })).body.backups;
    expect(all.map((b: any) => b.id).sort()).toEqual([...newestTwo, onDemand.body.backup.id].sort());
    expect(listing.match(/\.manifest\.json/g)).toHaveLength(3);

    const notes = (await api("/api/v1/notifications?kind=backup.succeeded", { token: owner.token })).body.notifications;
    expect(notes.length).toBeGreaterThanOrEqual(3);
    expect(notes[0]).toMatchObject({ target_type: "backup_policy", target_id: policy.id });
  });
});
