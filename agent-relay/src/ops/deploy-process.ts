// Running host tools (git, docker compose, nixpacks, pack, railpack) for a deployment: output
// streamed with secrets redacted, the process killed when the deployment is cancelled or times out.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { PassThrough, type Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { CancelledError, DeployFailedError } from "../errors.ts";

/** Replaces secrets with `***`, in one piece of text or (`stream()`) across a stream's chunks. */
export interface Redactor {
  (text: string): string;
  /**
   * A redactor for one stream: a secret split across two chunks is still caught, because the end
   * of a chunk that could be the start of a secret is held back until the next chunk (or `end()`).
   */
  stream(): StreamRedactor;
}

export interface StreamRedactor {
  push(text: string): string;
  /** Whatever was held back, redacted: call once the stream has ended. */
  end(): string;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Replaces every secret in output with `***`; secrets shorter than 4 characters are left alone. */
export function redactor(secrets: Array<string | undefined>): Redactor {
  const list = [...new Set(secrets.filter((s): s is string => typeof s === "string" && s.length >= 4))].sort((a, b) => b.length - a.length);
  if (list.length === 0) return Object.assign((text: string) => text, { stream: () => ({ push: (text: string) => text, end: () => "" }) });
  // Longest first, so a secret that contains another is replaced whole.
  const pattern = new RegExp(list.map(escapeRegExp).join("|"), "g");
  const redact = (text: string) => text.replace(pattern, "***");
  const stream = (): StreamRedactor => {
    let pending = "";
    return {
      push(text) {
        const buffer = pending + text;
        let cut = buffer.length - heldBack(buffer, list);
        // A whole secret that starts before the cut and ends after it would be split: cut before it.
        for (const match of buffer.matchAll(pattern)) {
          if (match.index >= cut) break;
          if (match.index + match[0].length > cut) {
            cut = match.index;
            break;
          }
        }
        pending = buffer.slice(cut);
        return redact(buffer.slice(0, cut));
      },
      end() {
        const rest = redact(pending);
        pending = "";
        return rest;
      },
    };
  };
  return Object.assign(redact, { stream });
}

/** The length of the longest end of `text` that is the beginning (not the whole) of a secret. */
function heldBack(text: string, secrets: readonly string[]): number {
  let longest = 0;
  for (const secret of secrets) {
    for (let n = Math.min(secret.length - 1, text.length); n > longest; n--) {
      if (text.endsWith(secret.slice(0, n))) {
        longest = n;
        break;
      }
    }
  }
  return longest;
}

/**
 * Decodes a child's output as UTF-8 across chunk boundaries (a character split between two reads
 * would otherwise come out as two U+FFFD) and redacts it across them; `onText` gets each piece.
 */
export function readText(readable: Readable, redact: Redactor | undefined, onText: (text: string) => void): void {
  const decoder = new StringDecoder("utf8");
  const scrub = redact?.stream();
  const emit = (text: string) => {
    const clean = scrub ? scrub.push(text) : text;
    if (clean) onText(clean);
  };
  readable.on("data", (piece: Buffer) => emit(decoder.write(piece)));
  readable.once("end", () => {
    emit(decoder.end());
    const rest = scrub?.end();
    if (rest) onText(rest);
  });
}

/** A tool the build type needs is not installed: the message names it and says how to get it. */
export class MissingToolError extends DeployFailedError {
  override readonly name = "MissingToolError";
}

/** A tool ran and failed: the message carries its exit code and last output. */
export class ToolFailedError extends DeployFailedError {
  override readonly name = "ToolFailedError";
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  signal: AbortSignal;
  /** Receives output (stdout and stderr) as it comes, already redacted. */
  onOutput?: (text: string) => Promise<void> | void;
  redact?: Redactor;
  /** stdout is handed to the caller (`Running.stdout`) instead of onOutput. */
  pipeStdout?: boolean;
}

export interface Running {
  child: ChildProcess;
  /** With `pipeStdout`: the program's stdout, kept until the caller reads it. */
  stdout: Readable | null;
  /** Resolves with the exit code; rejects when the program is missing or the signal aborted. */
  done: Promise<number>;
  /** The last few KB of stderr (redacted), for error messages. */
  stderrTail(): string;
}

const TAIL_CHARS = 4096;

/** Starts a program (never through a shell: arguments are not interpreted). */
export function start(command: string, args: string[], options: RunOptions): Running {
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd,
    env: { ...process.env, ...options.env } as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, so a cancel kills what it started too
  };
  const child = spawn(command, args, spawnOptions);
  let tail = "";
  let outputChain: Promise<void> = Promise.resolve();
  // Output goes out in order; "close" waits for the chain, and "close" comes after both pipes ended.
  const emit = (text: string) => {
    if (options.onOutput) outputChain = outputChain.then(() => options.onOutput!(text)).catch(() => undefined);
  };
  readText(child.stderr!, options.redact, (text) => {
    tail = (tail + text).slice(-TAIL_CHARS);
    emit(text);
  });
  let stdout: Readable | null = null;
  if (options.pipeStdout) {
    // Node discards a child's stdout that nobody listens to by the time it exits (so the pipe can
    // reach EOF). A fast `git archive` can exit before the build request starts reading, so the
    // output goes into a stream of our own at once; pipe() keeps backpressure on the child.
    const pass = new PassThrough();
    child.stdout!.once("error", (error) => pass.destroy(error));
    stdout = child.stdout!.pipe(pass);
  } else {
    readText(child.stdout!, options.redact, emit);
  }

  const kill = () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
    setTimeout(() => {
      try {
        if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, 3000).unref();
  };
  const onAbort = () => kill();
  if (options.signal.aborted) kill();
  else options.signal.addEventListener("abort", onAbort, { once: true });

  const done = new Promise<number>((resolve, reject) => {
    child.once("error", (error: NodeJS.ErrnoException) => {
      options.signal.removeEventListener("abort", onAbort);
      if (error.code === "ENOENT") reject(new MissingToolError(`\`${command}\` is not installed on this host (not found on PATH)`));
      else reject(error);
    });
    child.once("close", (code, sig) => {
      options.signal.removeEventListener("abort", onAbort);
      void outputChain.then(() => {
        if (options.signal.aborted) reject(options.signal.reason ?? new CancelledError("cancelled"));
        else resolve(code ?? (sig ? 128 : 1));
      });
    });
  });
  return { child, stdout, done, stderrTail: () => tail };
}

/** Runs a program to its end; a non-zero exit is a ToolFailedError naming it. */
export async function run(command: string, args: string[], options: RunOptions, what = command): Promise<void> {
  const running = start(command, args, options);
  const code = await running.done;
  if (code !== 0)
    throw new ToolFailedError(
      `${what} failed (exit code ${code})${running.stderrTail().trim() ? `: ${lastLines(running.stderrTail())}` : ""}`,
    );
}

/** Runs a program and returns its stdout (small outputs: rev-parse, log). */
export async function capture(command: string, args: string[], options: Omit<RunOptions, "onOutput" | "pipeStdout">): Promise<string> {
  const running = start(command, args, { ...options, pipeStdout: true });
  let out = "";
  running.stdout!.setEncoding("utf8").on("data", (piece: string) => (out += piece));
  const code = await running.done;
  if (code !== 0)
    throw new ToolFailedError(
      `${command} ${args[0] ?? ""} failed (exit code ${code})${running.stderrTail().trim() ? `: ${lastLines(running.stderrTail())}` : ""}`,
    );
  return out;
}

/** Whether `command` can be run at all (`--version` style probe). */
export async function available(command: string, args: string[], signal: AbortSignal): Promise<boolean> {
  try {
    const running = start(command, args, { signal });
    return (await running.done) === 0;
  } catch (error) {
    if (error instanceof MissingToolError) return false;
    throw error;
  }
}

export const lastLines = (text: string, n = 5): string => text.trim().split("\n").slice(-n).join(" | ");
