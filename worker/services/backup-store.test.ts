import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { HashingStream } from "../lib/backup-crypto.ts";
import { PART_BYTES, r2Store, s3Store, uploadStream, type ObjectStore } from "./backup-store.ts";

// The upload end of the pipeline against real stores: s3rver (S3's multipart API through SigV4)
// and workerd's local R2.

const s3 = () =>
  s3Store({
    endpoint: env.TEST_S3_ENDPOINT!,
    bucket: "pier-test",
    region: "us-east-1",
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    forcePathStyle: true,
  });

/** `size` pseudo-random bytes in chunks of `chunk`, failing after `failAt` bytes if given. */
function generated(size: number, options: { chunk?: number; failAt?: number } = {}): ReadableStream<Uint8Array> {
  const chunk = options.chunk ?? 300_000;
  let sent = 0;
  let seed = 7;
  return new ReadableStream({
    pull(controller) {
      if (options.failAt !== undefined && sent >= options.failAt) return controller.error(new Error("the source broke"));
      if (sent >= size) return controller.close();
      const n = Math.min(chunk, size - sent);
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        bytes[i] = seed >>> 24;
      }
      sent += n;
      controller.enqueue(bytes);
    },
  });
}

async function sha(stream: ReadableStream<Uint8Array>) {
  const hashing = new HashingStream();
  await stream.pipeThrough(hashing).pipeTo(new WritableStream());
  return { hex: hashing.hex(), bytes: hashing.bytes };
}

async function keysUnder(store: ObjectStore, prefix: string) {
  return (await store.list(prefix)).objects.map((o) => o.key);
}

describe.each([
  ["s3rver", s3],
  ["R2", () => r2Store(env.BACKUPS)],
])("uploads to %s", (_name, open) => {
  it("stores a small artifact in one PUT and a large one in fixed-size parts, byte for byte", async () => {
    const store = open();
    const prefix = `test/${crypto.randomUUID()}/`;
    await uploadStream(store, `${prefix}small`, generated(1000));
    const size = 2 * PART_BYTES + 12_345;
    await uploadStream(store, `${prefix}large`, generated(size));
    expect((await keysUnder(store, prefix)).sort()).toEqual([`${prefix}large`, `${prefix}small`]);
    const stored = await store.get(`${prefix}large`);
    expect(await sha(stored!.body)).toEqual(await sha(generated(size)));
    expect(await sha((await store.get(`${prefix}small`))!.body)).toEqual(await sha(generated(1000)));
    await store.delete(`${prefix}small`);
    await store.delete(`${prefix}large`);
    expect(await store.get(`${prefix}small`)).toBeNull();
  });

  it("leaves nothing behind when the source fails mid-upload", async () => {
    const store = open();
    const prefix = `test/${crypto.randomUUID()}/`;
    await expect(uploadStream(store, `${prefix}broken`, generated(3 * PART_BYTES, { failAt: PART_BYTES + 600_000 }))).rejects.toThrow(
      /the source broke/,
    );
    expect(await keysUnder(store, prefix)).toEqual([]);
    expect(await store.get(`${prefix}broken`)).toBeNull();
  });
});

describe("S3 failures", () => {
  it("tries a failed part once more, then aborts and says what the store said", async () => {
    const real = s3();
    const prefix = `test/${crypto.randomUUID()}/`;
    let calls = 0;
    const retried: number[] = [];
    // The real store, except that part 2 is refused every time: the first try and the one retry.
    const flaky: ObjectStore = {
      ...real,
      async createMultipart(key, type) {
        const upload = await real.createMultipart(key, type);
        return {
          ...upload,
          async uploadPart(n, data) {
            calls++;
            if (n === 2) return upload.uploadPart(n, data.subarray(0, 10)).then(() => Promise.reject(new Error("part 2 refused")));
            return upload.uploadPart(n, data);
          },
        };
      },
    };
    await expect(uploadStream(flaky, `${prefix}x`, generated(3 * PART_BYTES), { onRetry: (n) => retried.push(n) })).rejects.toThrow(
      /part 2 refused/,
    );
    expect(retried).toEqual([2]);
    expect(calls).toBe(3);
    expect(await keysUnder(real, prefix)).toEqual([]);
  });

  it("reports an unreachable store", async () => {
    const store = s3Store({
      endpoint: "http://127.0.0.1:9",
      bucket: "pier-test",
      region: "us-east-1",
      accessKeyId: "S3RVER",
      secretAccessKey: "S3RVER",
      forcePathStyle: true,
    });
    await expect(uploadStream(store, "x", generated(10))).rejects.toThrow(/Could not reach the store at http:\/\/127.0.0.1:9/);
  });
});

describe("a store connection lost before any answer", () => {
  const dropping = () =>
    s3Store({
      endpoint: env.TEST_S3_DROPPING_ENDPOINT!,
      bucket: "pier-test",
      region: "us-east-1",
      accessKeyId: "S3RVER",
      secretAccessKey: "S3RVER",
      forcePathStyle: true,
    });

  // The front judges only a connection's first request, so each step below opens a new one: the
  // POST first, then the PUT on the connection the POST's loss left none of.
  it("is tried once more for a PUT and for starting a multipart upload", async () => {
    const store = dropping();
    // Starting a multipart upload is a POST whose repeat leaves at worst an empty upload behind: sent
    // again, as S3's own SDKs do. (Completing one is not: a lost answer leaves its outcome unknown.)
    const upload = await store.createMultipart(`test/${crypto.randomUUID()}/drop-once/parts`);
    expect(upload.uploadId).toMatch(/\S/);
    const key = `test/${crypto.randomUUID()}/drop-once/artifact`;
    await store.put(key, "kept whole");
    const read = await s3().get(key);
    expect(await new Response(read!.body).text()).toBe("kept whole");
    await s3().delete(key);
  });
});
