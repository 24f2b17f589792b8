// Host tools run for deployments: piped output survives the program exiting before anyone reads
// it (Node otherwise discards unread stdout at exit), secrets are redacted, and a missing tool or
// a failing one is named.
import { describe, expect, it } from "vitest";
import { capture, MissingToolError, redactor, run, start, ToolFailedError } from "./deploy-process.ts";

describe("host tools", () => {
  it("keeps piped stdout for a reader that arrives after the program exited", async () => {
    const signal = AbortSignal.timeout(10_000);
    const running = start(process.execPath, ["-e", "process.stdout.write('x'.repeat(30000))"], { signal, pipeStdout: true });
    expect(await running.done).toBe(0);
    // (The output fits in the pipe, so the program can end unread.) Past the tick in which Node
    // flushes an untouched stdout:
    await new Promise((resolve) => setTimeout(resolve, 50));
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
});
