import { sha256 } from "@noble/hashes/sha2.js";
import { fromBase64Url } from "./crypto.ts";

// Streams for backup artifacts: client-side encryption with the organization's key, and an
// incremental SHA-256 (WebCrypto digests only whole buffers). Both transform chunk by chunk, so
// an artifact of any size passes with bounded memory.
//
// The encrypted format ("PIERBK1"), the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár,
// "Online Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", 2015) over AES-256-GCM,
// as age and Tink's streaming AEAD do:
//
//   header   16 bytes   "PIERBK1\0" (8) ‖ nonce prefix (7 random bytes) ‖ 0x00
//   segments            AES-256-GCM(plaintext segment) ‖ 16-byte tag, one after the other
//
// Every plaintext segment is SEGMENT_BYTES long except the last, which may be shorter (or empty:
// an empty artifact is one empty final segment). Segment i's 12-byte nonce is the 7-byte prefix ‖
// i as a 4-byte big-endian integer ‖ 0x01 for the last segment, 0x00 otherwise; the header is the
// additional data of every segment. A truncated, reordered or altered artifact therefore fails to
// decrypt (a dropped tail leaves no segment marked last) rather than yielding wrong bytes.
//
// The key is HKDF-SHA256 over the Worker's ENCRYPTION_KEY, with salt "pier-backups-v1" and the
// organization's id as info: one key per organization, nothing extra to store, and the same
// ENCRYPTION_KEY is all an operator must keep to read backups elsewhere.

export const MAGIC = new TextEncoder().encode("PIERBK1\0");
export const HEADER_BYTES = 16;
export const SEGMENT_BYTES = 64 * 1024;
const TAG_BYTES = 16;
const SEALED_SEGMENT_BYTES = SEGMENT_BYTES + TAG_BYTES;

/** The organization's backup key (AES-256-GCM), derived from the Worker's ENCRYPTION_KEY. */
export async function organizationBackupKey(encryptionKeyBase64: string, organizationId: string): Promise<CryptoKey> {
  const raw = fromBase64Url(encryptionKeyBase64.trim());
  if (raw.length !== 32) throw new Error("ENCRYPTION_KEY must be 32 random bytes in base64: generate one with `openssl rand -base64 32`.");
  const master = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new TextEncoder().encode("pier-backups-v1"),
      info: new TextEncoder().encode(organizationId),
    },
    master,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

function segmentNonce(header: Uint8Array, index: number, last: boolean): Uint8Array {
  if (index > 0xffff_ffff) throw new Error("The artifact is too large for the encrypted format (over 256 TiB).");
  const nonce = new Uint8Array(12);
  nonce.set(header.subarray(8, 15), 0);
  new DataView(nonce.buffer).setUint32(7, index);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** Collects incoming chunks and hands out exact-size pieces, copying only what it must. */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  length = 0;
  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.byteLength;
  }
  /** Removes and returns the first `n` bytes (n ≤ length). */
  take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0]!;
      const need = n - filled;
      if (head.byteLength <= need) {
        out.set(head, filled);
        filled += head.byteLength;
        this.chunks.shift();
      } else {
        out.set(head.subarray(0, need), filled);
        this.chunks[0] = head.subarray(need);
        filled += need;
      }
    }
    this.length -= n;
    return out;
  }
}

const asBytes = (chunk: unknown): Uint8Array => {
  if (chunk instanceof Uint8Array) return chunk;
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError("A backup stream carries bytes only.");
};

/** Plaintext in, the PIERBK1 format out. */
export function encryptStream(key: CryptoKey): TransformStream<Uint8Array, Uint8Array> {
  const header = new Uint8Array(HEADER_BYTES);
  header.set(MAGIC, 0);
  header.set(crypto.getRandomValues(new Uint8Array(7)), 8);
  const queue = new ByteQueue();
  let index = 0;
  const seal = async (plain: Uint8Array, last: boolean) =>
    new Uint8Array(
      await crypto.subtle.encrypt({ name: "AES-GCM", iv: segmentNonce(header, index++, last), additionalData: header }, key, plain),
    );
  return new TransformStream({
    start(controller) {
      controller.enqueue(header.slice());
    },
    async transform(chunk, controller) {
      queue.push(asBytes(chunk));
      // Strictly more than a segment: the last full segment might be the final one.
      while (queue.length > SEGMENT_BYTES) controller.enqueue(await seal(queue.take(SEGMENT_BYTES), false));
    },
    async flush(controller) {
      controller.enqueue(await seal(queue.take(queue.length), true));
    },
  });
}

export class BackupIntegrityError extends Error {
  override name = "BackupIntegrityError";
}

/** The PIERBK1 format in, plaintext out; fails on a wrong key, a truncated or altered artifact. */
export function decryptStream(key: CryptoKey): TransformStream<Uint8Array, Uint8Array> {
  const queue = new ByteQueue();
  let header: Uint8Array | undefined;
  let index = 0;
  const open = async (sealed: Uint8Array, last: boolean) => {
    try {
      return new Uint8Array(
        await crypto.subtle.decrypt({ name: "AES-GCM", iv: segmentNonce(header!, index++, last), additionalData: header! }, key, sealed),
      );
    } catch {
      throw new BackupIntegrityError(
        `The encrypted artifact does not decrypt at segment ${index - 1}: it was altered or truncated, or it was encrypted with another organization's key or another ENCRYPTION_KEY.`,
      );
    }
  };
  return new TransformStream({
    async transform(chunk, controller) {
      queue.push(asBytes(chunk));
      if (!header) {
        if (queue.length < HEADER_BYTES) return;
        header = queue.take(HEADER_BYTES);
        if (!MAGIC.every((b, i) => header![i] === b))
          throw new BackupIntegrityError("This artifact is not in Pier's encrypted backup format (PIERBK1).");
      }
      while (queue.length > SEALED_SEGMENT_BYTES) controller.enqueue(await open(queue.take(SEALED_SEGMENT_BYTES), false));
    },
    async flush(controller) {
      if (!header) throw new BackupIntegrityError("The encrypted artifact ends before its header.");
      if (queue.length < TAG_BYTES) throw new BackupIntegrityError("The encrypted artifact is truncated.");
      controller.enqueue(await open(queue.take(queue.length), true));
    },
  });
}

/** Passes bytes through unchanged, hashing and counting them. */
export class HashingStream extends TransformStream<Uint8Array, Uint8Array> {
  private readonly hash = sha256.create();
  bytes = 0;
  constructor(onBytes?: (bytes: number) => void) {
    super({
      transform: (chunk, controller) => {
        const bytes = asBytes(chunk);
        this.hash.update(bytes);
        this.bytes += bytes.byteLength;
        onBytes?.(this.bytes);
        controller.enqueue(bytes);
      },
    });
  }
  /** The hex digest; call once, after the stream ended. */
  hex(): string {
    return [...this.hash.digest()].map((b) => b.toString(16).padStart(2, "0")).join("");
  }
}

/**
 * Fails the stream at its end when its SHA-256 is not `expected`, so a reader that consumed the
 * whole artifact learns it was corrupted before it commits to it. The last chunk is held back
 * until the digest is known: a corrupted artifact never reaches its end downstream, so an HTTP
 * client sees a body cut off before its end, not a complete one.
 */
export function verifyingStream(expected: string, onBytes?: (bytes: number) => void): TransformStream<Uint8Array, Uint8Array> {
  const hash = sha256.create();
  let bytes = 0;
  let held: Uint8Array | null = null;
  return new TransformStream({
    transform(chunk, controller) {
      const data = asBytes(chunk);
      hash.update(data);
      bytes += data.byteLength;
      onBytes?.(bytes);
      if (held) controller.enqueue(held);
      held = data;
    },
    flush(controller) {
      const actual = [...hash.digest()].map((b) => b.toString(16).padStart(2, "0")).join("");
      if (actual !== expected)
        throw new BackupIntegrityError(
          `The artifact's SHA-256 is ${actual} but the backup recorded ${expected}: it is corrupted (or was replaced) in the destination, so it was refused.`,
        );
      if (held) controller.enqueue(held);
    },
  });
}
