// Is this the start of a tar (or of a compressed one, which the engine's load and archive
// endpoints also take)? Checked on the first bytes of an upload, so that garbage is a 400 before
// anything reaches a host.

const MAGICS: Array<[string, number[]]> = [
  ["gzip", [0x1f, 0x8b]],
  ["bzip2", [0x42, 0x5a, 0x68]],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
];

/** A tar header block: 512 bytes whose checksum field (octal, offset 148) matches its bytes. */
function isTarHeader(block: Uint8Array): boolean {
  if (block.length < 512) return false;
  const field = new TextDecoder().decode(block.subarray(148, 156)).replace(/\0/g, " ").trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  return Number.parseInt(field, 8) === sum;
}

/** How many leading bytes `looksLikeArchive` needs. */
export const SNIFF_BYTES = 512;

/** "tar", a compression's name, or null for anything else. */
export function looksLikeArchive(head: Uint8Array): string | null {
  for (const [name, magic] of MAGICS) if (magic.every((b, i) => head[i] === b)) return name;
  return isTarHeader(head) ? "tar" : null;
}

/**
 * Reads the first `SNIFF_BYTES` of `body` (fewer if it is shorter) and gives them back with a
 * stream of the whole body, those bytes included: only one small piece is ever held.
 */
export async function peekBody(body: ReadableStream<Uint8Array>): Promise<{ head: Uint8Array; body: ReadableStream<Uint8Array> }> {
  const reader = body.getReader();
  const pieces: Uint8Array[] = [];
  let length = 0;
  let done = false;
  while (length < SNIFF_BYTES) {
    const next = await reader.read();
    if (next.done) {
      done = true;
      break;
    }
    pieces.push(next.value);
    length += next.value.length;
  }
  const head = new Uint8Array(length);
  let at = 0;
  for (const piece of pieces) {
    head.set(piece, at);
    at += piece.length;
  }
  let first = true;
  const rest = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (first) {
          first = false;
          if (head.length > 0) return controller.enqueue(head);
        }
        if (done) return controller.close();
        const next = await reader.read();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  return { head: head.subarray(0, SNIFF_BYTES), body: rest };
}

/**
 * Passes `body` through, failing it once more than `max` bytes went by (the caller then answers
 * 413): a tar's size is not known before it has been read.
 */
export function limitBody(body: ReadableStream<Uint8Array>, max: number): { body: ReadableStream<Uint8Array>; exceeded: () => boolean } {
  let seen = 0;
  let over = false;
  const limited = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.length;
        if (seen > max) {
          over = true;
          controller.error(new Error(`the upload is larger than ${max} bytes`));
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
  return { body: limited, exceeded: () => over };
}
