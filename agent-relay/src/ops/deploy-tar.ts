// Adds files to a tar stream on the fly: `git archive` output passes through untouched, and the
// extra entries (a generated Dockerfile for static sites) go in before the end-of-archive marker.
// Streaming keeps a large repository out of memory; it needs no tar CLI on the host.
//
// Format: POSIX ustar (IEEE Std 1003.1-1988): 512-byte blocks; each entry is a header block and
// its data padded to a block; the archive ends with (at least) two zero blocks.

const BLOCK = 512;

export interface ExtraFile {
  /** Path inside the archive, under 100 bytes. */
  name: string;
  content: string;
  mode?: number;
}

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as ustar fields are written.
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

/** A ustar header for a regular file. */
export function tarHeader(name: string, size: number, mode = 0o644, mtime = Math.floor(Date.now() / 1000)): Uint8Array {
  const encoded = new TextEncoder().encode(name);
  if (encoded.length > 99) throw new Error(`tar entry name too long: ${name}`);
  const header = new Uint8Array(BLOCK);
  const put = (offset: number, text: string) => header.set(new TextEncoder().encode(text), offset);
  header.set(encoded, 0);
  put(100, octal(mode, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  put(124, octal(size, 12));
  put(136, octal(mtime, 12));
  put(148, "        "); // checksum counts as spaces while it is computed
  put(156, "0");
  put(257, "ustar\0");
  put(263, "00");
  let sum = 0;
  for (const byte of header) sum += byte;
  put(148, `${sum.toString(8).padStart(6, "0")}\0 `);
  return header;
}

/** The entry's data size from a header: octal text, or base-256 for large files (GNU/star). */
export function entrySize(header: Uint8Array): number {
  const field = header.subarray(124, 136);
  if ((field[0]! & 0x80) !== 0) {
    let size = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) size = size * 256 + field[i]!;
    return size;
  }
  const text = new TextDecoder()
    .decode(field)
    .replace(/[\0 ]+$/g, "")
    .trim();
  return text ? Number.parseInt(text, 8) : 0;
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

function fileEntry(file: ExtraFile): Uint8Array {
  const data = new TextEncoder().encode(file.content);
  const out = new Uint8Array(BLOCK + data.length + padding(data.length));
  out.set(tarHeader(file.name, data.length, file.mode ?? 0o644), 0);
  out.set(data, BLOCK);
  return out;
}

/**
 * Yields `source` with `files` inserted before its end marker. A source that ends without a
 * marker (cut short) still gets the files and a proper end.
 */
export async function* appendToTar(source: AsyncIterable<Uint8Array>, files: ExtraFile[]): AsyncGenerator<Uint8Array> {
  let pending = new Uint8Array(0);
  /** Bytes of entry data (with padding) still to pass through before the next header. */
  let dataLeft = 0;
  let ended = false;
  const tail = () => {
    const parts = files.map(fileEntry);
    const total = parts.reduce((n, p) => n + p.length, 0) + 2 * BLOCK;
    const out = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  };

  for await (const chunk of source) {
    if (ended) continue; // drain the source's trailing zero blocks
    let buf = pending.length ? concat(pending, chunk) : chunk;
    pending = new Uint8Array(0);
    const out: Uint8Array[] = [];
    while (buf.length > 0) {
      if (dataLeft > 0) {
        const take = Math.min(dataLeft, buf.length);
        out.push(buf.subarray(0, take));
        buf = buf.subarray(take);
        dataLeft -= take;
        continue;
      }
      if (buf.length < BLOCK) {
        pending = buf.slice();
        break;
      }
      const header = buf.subarray(0, BLOCK);
      if (header.every((b) => b === 0)) {
        ended = true;
        out.push(tail());
        break;
      }
      const size = entrySize(header);
      out.push(header);
      buf = buf.subarray(BLOCK);
      dataLeft = size + padding(size);
    }
    for (const piece of out) if (piece.length) yield piece;
  }
  if (!ended) yield tail();
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
