// Host tools run for deployments: piped output survives the program exiting before anyone reads
// it (Node otherwise discards unread stdout at exit), secrets are redacted, and a missing tool or
// a failing one is named.
import { describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import { waitFor } from "../../../test/support/wait.ts";
import { capture, MissingToolError, readText, redactor, run, start, ToolFailedError } from "./deploy-process.ts";

describe("host tools", () => {
  it("keeps piped stdout for a reader that arrives after the program exited", async () => {
    const signal = AbortSignal.timeout(10_000);
    const running = start(process.execPath, ["-e", "process.stdout.write('x'.repeat(30000))"], { signal, pipeStdout: true });
    expect(await running.done).toBe(0);
    // (The output fits in the pipe, so the program can end unread.) Once the program's side of the
    // pipe has ended, a reader arriving now is late:
    await waitFor("the program's stdout to end", () => (running.stdout as PassThrough).writableFinished);
    let bytes = 0;
    for await (const chunk of running.stdout!) bytes += (chunk as Buffer).length;
    expect(bytes).toBe(30_000);
  });

  it("captures output, and names a failing or a missing program", async () => {
    const signal = AbortSignal.timeout(10_000);
    expect(await capture(process.execPath, ["-e", "console.log('hello')"], { signal })).toBe("hello\n");
    await expect(run(process.execPath, ["-e", "console.error('boom'); process.exit(3)"], { signal }, "the tool")).rejects.toThrow(
      ToolFailedError,
    );
    await expect(run(process.execPath, ["-e", "process.exit(3)"], { signal }, "the tool")).rejects.toThrow(
      /the tool failed \(exit code 3\)/,
    );
    await expect(run("pier-no-such-tool", [], { signal })).rejects.toThrow(MissingToolError);
  });

  it("redacts every secret from output, longest first", () => {
    const redact = redactor(["abc", "token-1234", "token-1234-long", undefined]);
    expect(redact("a token-1234-long and token-1234 but abc stays")).toBe("a *** and *** but abc stays");
  });

  it("redacts a secret split across chunks, and holds back nothing that cannot start one", () => {
    const redact = redactor(["s3cret-token", "s3cret-token-long"]);
    const scrub = redact.stream();
    const pieces = ["build ok; pushing with s3c", "ret-tok", "en and s3cret-token-lo", "ng done\n"].map((p) => scrub.push(p));
    expect(pieces[0]).toBe("build ok; pushing with ");
    expect(pieces.join("") + scrub.end()).toBe("build ok; pushing with *** and *** done\n");
    // The end of a stream that only looked like the start of a secret comes out at the end.
    const other = redact.stream();
    expect(other.push("plain s3c")).toBe("plain ");
    expect(other.end()).toBe("s3c");
    // Overlapping secrets: one that would straddle the held-back end is kept whole.
    const overlap = redactor(["abcd", "cdXYZW"]).stream();
    expect(overlap.push("xabcdXY") + overlap.push("Q") + overlap.end()).toBe("x***XYQ");
  });

  it("decodes multibyte characters split across chunks", async () => {
    const readable = new PassThrough();
    let text = "";
    const ended = new Promise((resolve) => readable.once("end", resolve));
    readText(readable, redactor(["tök€n-1"]), (piece) => (text += piece));
    const bytes = Buffer.from("größe 🚢 tök€n-1 ok", "utf8");
    // Every byte on its own: each multibyte character (and the secret) arrives in pieces.
    for (const byte of bytes) readable.write(Buffer.from([byte]));
    readable.end();
    await ended;
    expect(text).toBe("größe 🚢 *** ok");
  });
});
