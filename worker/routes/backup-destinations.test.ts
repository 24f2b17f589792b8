import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { addMember, call, expectProblem, json, newOwner, unique } from "../testing.ts";

// Against s3rver (started by the worker tests' global setup; it knows one access key, S3RVER, and
// has the buckets pier-test and pier-other).
const s3 = () => ({
  endpoint: env.TEST_S3_ENDPOINT!,
  bucket: "pier-test",
  region: "us-east-1",
  access_key_id: "S3RVER",
  secret_access_key: "S3RVER",
});

describe("backup destinations", () => {
  it("lists the R2 bucket as the default, and adds, reads, changes and removes an S3 store with its secret masked", async () => {
    const owner = await newOwner();
    const listed = await json(await call("/api/v1/backup-destinations", { token: owner.token }), 200);
    expect(listed.destinations).toEqual([expect.objectContaining({ id: "default", kind: "r2", default: true, encrypt: true })]);

    const name = unique("store");
    const created = await json(
      await call("/api/v1/backup-destinations", { token: owner.token, body: { ...s3(), name, prefix: "/nightly/pier/" } }),
      201,
    );
    expect(created).toMatchObject({
      id: expect.stringMatching(/^bkd_/),
      name,
      kind: "s3",
      default: false,
      bucket: "pier-test",
      prefix: "nightly/pier",
      force_path_style: true,
      encrypt: false,
      secret_access_key: "…",
      verified_at: expect.any(String),
    });
    expect(JSON.stringify(created)).not.toContain('"S3RVER"}');

    const one = await json(await call(`/api/v1/backup-destinations/${created.id}`, { token: owner.token }), 200);
    expect(one).toEqual(created);

    // The probe was cleaned up: nothing is left under the prefix.
    const objects = await s3List("nightly/pier/");
    expect(objects).toEqual([]);

    const changed = await json(
      await call(`/api/v1/backup-destinations/${created.id}`, {
        method: "PATCH",
        token: owner.token,
        body: { encrypt: true, bucket: "pier-other" },
      }),
      200,
    );
    expect(changed).toMatchObject({ encrypt: true, bucket: "pier-other" });

    // A change that breaks it is refused in the store's words, and the saved settings stay.
    await expectProblem(
      await call(`/api/v1/backup-destinations/${created.id}`, {
        method: "PATCH",
        token: owner.token,
        body: { access_key_id: "NOT-A-KEY" },
      }),
      422,
      /InvalidAccessKeyId/,
    );
    expect(await json(await call(`/api/v1/backup-destinations/${created.id}`, { token: owner.token }), 200)).toMatchObject({
      bucket: "pier-other",
    });

    await expectProblem(await call("/api/v1/backup-destinations", { token: owner.token, body: { ...s3(), name } }), 409, /exists already/);

    expect((await call(`/api/v1/backup-destinations/${created.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    await expectProblem(await call(`/api/v1/backup-destinations/${created.id}`, { token: owner.token }), 404);
    await expectProblem(await call("/api/v1/backup-destinations/default", { method: "DELETE", token: owner.token }), 409);
  });

  it("refuses a store that fails the probe with the store's message", async () => {
    const owner = await newOwner();
    await expectProblem(
      await call("/api/v1/backup-destinations", {
        token: owner.token,
        body: { ...s3(), name: "wrong", access_key_id: "NOT-A-KEY" },
      }),
      422,
      /write a probe object.*InvalidAccessKeyId/,
    );
    await expectProblem(
      await call("/api/v1/backup-destinations", { token: owner.token, body: { ...s3(), name: "nobucket", bucket: "no-such-bucket" } }),
      422,
      /NoSuchBucket/,
    );
    await expectProblem(
      await call("/api/v1/backup-destinations", { token: owner.token, body: { ...s3(), name: "closed", endpoint: "http://127.0.0.1:9" } }),
      422,
      /Could not reach the store/,
    );
    const bad = await expectProblem(
      await call("/api/v1/backup-destinations", { token: owner.token, body: { ...s3(), name: "x", endpoint: "ftp://x/y", bucket: "A" } }),
      422,
    );
    expect(bad.errors.map((e: { pointer: string }) => e.pointer)).toEqual(expect.arrayContaining(["/body/bucket", "/body/endpoint"]));
    const listed = await json(await call("/api/v1/backup-destinations", { token: owner.token }), 200);
    expect(listed.destinations).toHaveLength(1);
  });

  it("refuses to remove a destination a policy backs up into, naming the policies, until they point elsewhere", async () => {
    const owner = await newOwner();
    const store = await json(await call("/api/v1/backup-destinations", { token: owner.token, body: { ...s3(), name: "nightly" } }), 201);
    const host = await json(await call("/api/v1/hosts", { token: owner.token, body: { name: unique("h") } }), 201);
    const policy = await json(
      await call("/api/v1/backup-policies", {
        token: owner.token,
        body: {
          name: "app data nightly",
          target: { kind: "volume", host_id: host.id, name: "app-data" },
          schedule: "0 3 * * *",
          destination_id: store.id,
        },
      }),
      201,
    );
    const refused = await expectProblem(
      await call(`/api/v1/backup-destinations/${store.id}`, { method: "DELETE", token: owner.token }),
      409,
      /1 backup policy: app data nightly/,
    );
    expect(refused.detail).toContain(policy.id);
    // The policy still runs into it, untouched.
    expect(await json(await call(`/api/v1/backup-policies/${policy.id}`, { token: owner.token }), 200)).toMatchObject({
      destination_id: store.id,
      enabled: true,
    });
    await json(
      await call(`/api/v1/backup-policies/${policy.id}`, { method: "PATCH", token: owner.token, body: { destination_id: "default" } }),
      200,
    );
    expect((await call(`/api/v1/backup-destinations/${store.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    await call(`/api/v1/backup-policies/${policy.id}`, { method: "DELETE", token: owner.token });
  });

  it("lets viewers read, only admins manage, and hides other organizations' destinations", async () => {
    const owner = await newOwner();
    const created = await json(await call("/api/v1/backup-destinations", { token: owner.token, body: { ...s3(), name: "main" } }), 201);
    const member = await addMember(owner, "member");
    const viewer = await addMember(owner, "viewer");
    expect(await json(await call(`/api/v1/backup-destinations/${created.id}`, { token: viewer.token }), 200)).toMatchObject({
      name: "main",
    });
    await expectProblem(await call("/api/v1/backup-destinations", { token: member.token, body: { ...s3(), name: "m" } }), 403, /admin/);
    await expectProblem(await call(`/api/v1/backup-destinations/${created.id}`, { method: "DELETE", token: member.token }), 403);
    const stranger = await newOwner("stranger");
    await expectProblem(await call(`/api/v1/backup-destinations/${created.id}`, { token: stranger.token }), 404);
    await expectProblem(
      await call(`/api/v1/backup-destinations/${created.id}`, { method: "PATCH", token: stranger.token, body: { name: "mine" } }),
      404,
    );
    const audit = await json(await call("/api/v1/audit-events?action=backup_destination.create", { token: owner.token }), 200);
    expect(JSON.stringify(audit)).toContain(created.id);
  });
});

async function s3List(prefix: string): Promise<string[]> {
  const { AwsClient } = await import("aws4fetch");
  const client = new AwsClient({ accessKeyId: "S3RVER", secretAccessKey: "S3RVER", service: "s3", region: "us-east-1" });
  const text = await (await client.fetch(`${env.TEST_S3_ENDPOINT}/pier-test/?list-type=2&prefix=${encodeURIComponent(prefix)}`)).text();
  return [...text.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]!);
}
