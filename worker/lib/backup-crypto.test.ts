import { describe, expect, it } from "vitest";
import {
  decryptStream,
  encryptStream,
  HashingStream,
  HEADER_BYTES,
  organizationBackupKey,
  SEGMENT_BYTES,
  verifyingStream,
} from "./backup-crypto.ts";

const KEY = "mOo7k0PJGemYJz25y3xQuFbYoQm4RU98LgT17cG2W6Q=";

/** `bytes` as a stream of uneven chunks, as a relay delivers them. */
function streamOf(bytes: Uint8Array, chunk = 7_777): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

const collect = async (stream: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(stream).arrayBuffer());
const random = (n: number) => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65_536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65_536)));
  return out;
};

describe("backup encryption (PIERBK1)", () => {
  it("round-trips artifacts of every awkward size, in segments of 64 KiB plus a tag", async () => {
    const key = await organizationBackupKey(KEY, "org_a");
    for (const size of [0, 1, SEGMENT_BYTES - 1, SEGMENT_BYTES, SEGMENT_BYTES + 1, 3 * SEGMENT_BYTES + 5]) {
      const plain = random(size);
      const sealed = await collect(streamOf(plain).pipeThrough(encryptStream(key)));
      const segments = Math.max(1, Math.ceil(size / SEGMENT_BYTES));
      expect(sealed.length, `size ${size}`).toBe(HEADER_BYTES + size + 16 * segments);
      expect(await collect(streamOf(sealed, 1_000).pipeThrough(decryptStream(key)))).toEqual(plain);
    }
  });

  it("refuses an altered, truncated or foreign artifact", async () => {
    const key = await organizationBackupKey(KEY, "org_a");
    const plain = random(2 * SEGMENT_BYTES + 10);
    const sealed = await collect(streamOf(plain).pipeThrough(encryptStream(key)));

    const flipped = sealed.slice();
    flipped[HEADER_BYTES + SEGMENT_BYTES + 3]! ^= 1;
    await expect(collect(streamOf(flipped).pipeThrough(decryptStream(key)))).rejects.toThrow(/altered or truncated/);

    // Cut at a segment boundary: what is left decrypts segment by segment, but none is the last.
    const cut = sealed.slice(0, HEADER_BYTES + 2 * (SEGMENT_BYTES + 16));
    await expect(collect(streamOf(cut).pipeThrough(decryptStream(key)))).rejects.toThrow(/does not decrypt/);

    const other = await organizationBackupKey(KEY, "org_b");
    await expect(collect(streamOf(sealed).pipeThrough(decryptStream(other)))).rejects.toThrow(/another organization's key/);

    await expect(collect(streamOf(plain).pipeThrough(decryptStream(key)))).rejects.toThrow(/not in Pier's encrypted backup format/);
  });

  it("hashes incrementally and refuses bytes whose SHA-256 differs from the record", async () => {
    const plain = random(300_001);
    const hashing = new HashingStream();
    await collect(streamOf(plain).pipeThrough(hashing));
    const whole = [...new Uint8Array(await crypto.subtle.digest("SHA-256", plain))].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(hashing.hex()).toBe(whole);
    expect(hashing.bytes).toBe(plain.length);

    expect(await collect(streamOf(plain).pipeThrough(verifyingStream(whole)))).toEqual(plain);
    const corrupted = plain.slice();
    corrupted[12_345]! ^= 0xff;
    await expect(collect(streamOf(corrupted).pipeThrough(verifyingStream(whole)))).rejects.toThrow(/corrupted/);

    // What a reader gets before the error: never the artifact's end (its last chunk waits for
    // the digest), so a download whose length is announced is visibly cut short.
    const reader = streamOf(corrupted).pipeThrough(verifyingStream(whole)).getReader();
    let got = 0;
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          got += value.byteLength;
        }
      })(),
    ).rejects.toThrow(/corrupted/);
    expect(got).toBe(plain.length - (plain.length % 7_777 || 7_777));
  });
});
