import { ExecTimeoutError } from "../errors.ts";
import type { OpArgs } from "../protocol.ts";
import type { OpContext } from "./context.ts";

/** Output kept per stream; more would make one result message too large. */
export const EXEC_OUTPUT_MAX_CHARS = 512 * 1024;

export async function containerExec(args: OpArgs<"container.exec">, { docker, signal }: OpContext) {
  const timeout = args.timeout_ms === undefined ? undefined : AbortSignal.timeout(args.timeout_ms);
  const bounded = timeout ? AbortSignal.any([signal, timeout]) : signal;
  try {
    const outcome = await docker.exec(
      args.id,
      { cmd: args.cmd, env: args.env, workdir: args.workdir, user: args.user, maxChars: EXEC_OUTPUT_MAX_CHARS },
      bounded,
    );
    return { exit_code: outcome.exitCode, stdout: outcome.stdout, stderr: outcome.stderr, truncated: outcome.truncated };
  } catch (error) {
    if (timeout?.aborted && !signal.aborted) {
      // Docker has no call to kill an exec'd process: it runs on inside the container.
      throw new ExecTimeoutError(`command did not finish within ${args.timeout_ms} ms (it may still be running)`);
    }
    throw error;
  }
}
