import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { appendToTar, entrySize, tarHeader } from "./deploy-tar.ts";

const run = promisify(execFile);

async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

describe("appendToTar", () => {
  it("writes headers that tar reads, with sizes in octal", () => {
    const header = tarHeader("a.txt", 1234);
    expect(entrySize(header)).toBe(1234);
    expect(new TextDecoder().decode(header.subarray(257, 262))).toBe("ustar");
  });

  it("adds files to a real archive, however the stream is cut, and tar lists and extracts them", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pier-tar-"));
    try {
      await writeFile(join(dir, "small.txt"), "hello\n");
      await writeFile(join(dir, "big.bin"), Buffer.alloc(70_000, 7));
      await run("tar", ["-C", dir, "-cf", join(dir, "in.tar"), "small.txt", "big.bin"]);
      const original = new Uint8Array(await readFile(join(dir, "in.tar")));
      for (const size of [1, 511, 512, 4096, original.length]) {
        const out = await collect(appendToTar(pieces(original, size), [{ name: ".pier.Dockerfile", content: "FROM scratch\n" }]));
        expect(out.length % 512).toBe(0);
        await writeFile(join(dir, "out.tar"), out);
        const { stdout } = await run("tar", ["-tf", join(dir, "out.tar")]);
        expect(stdout.trim().split("\n")).toEqual(["small.txt", "big.bin", ".pier.Dockerfile"]);
      }
      await run("mkdir", ["-p", join(dir, "x")]);
      await run("tar", ["-C", join(dir, "x"), "-xf", join(dir, "out.tar")]);
      expect(await readFile(join(dir, "x", ".pier.Dockerfile"), "utf8")).toBe("FROM scratch\n");
      expect((await readFile(join(dir, "x", "big.bin"))).length).toBe(70_000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("passes git archive output (with its pax header) through", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pier-tar-git-"));
    try {
      const git = (...args: string[]) => run("git", ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.test", ...args]);
      await git("init", "-q");
      await writeFile(join(dir, "index.html"), "<h1>hi</h1>\n");
      await git("add", ".");
      await git("commit", "-q", "-m", "first");
      const { stdout } = await run("git", ["-C", dir, "archive", "--format=tar", "HEAD"], { encoding: "buffer" });
      const out = await collect(appendToTar(pieces(new Uint8Array(stdout), 1000), [{ name: "Dockerfile", content: "FROM x\n" }]));
      await writeFile(join(dir, "out.tar"), out);
      const list = await run("tar", ["-tf", join(dir, "out.tar")]);
      expect(list.stdout.trim().split("\n")).toEqual(["index.html", "Dockerfile"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("ends an archive that was cut short", async () => {
    const out = await collect(appendToTar(pieces(new Uint8Array(0), 1), [{ name: "f", content: "x" }]));
    expect(out.length).toBe(512 * 2 + 1024);
  });
});
