import type { Duplex } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { DockerClient } from "./docker/client.ts";
import { DockerError } from "./docker/errors.ts";
import { MultiplexedStreamDemuxer } from "./docker/streams.ts";
import * as api from "./docker/terminal.ts";
import { toRelayError } from "./errors.ts";
import type { Logger } from "./log.ts";
import {
  encode,
  encodeTerminalFrame,
  decodeTerminalFrame,
  TERMINAL_FRAME_MAX_BYTES,
  TERMINAL_WINDOW_BYTES,
  type RelayError,
  type TermExit,
  type TermOpen,
  type TerminalMode,
} from "./protocol.ts";

export interface TerminalDeps {
  docker: DockerClient;
  /** One JSON text frame to the relay; false when the socket is gone. */
  send(text: string): boolean;
  /** One binary frame to the relay; false when the socket is gone. */
  sendBinary(frame: Uint8Array): boolean;
  log: Logger;
  /** Fall back to signalling an exec's host PID (default true; tests turn it off to prove the in-container path). */
  signalHostPids?: boolean;
}

/** Shells tried, in order, when a terminal names no command. */
const DEFAULT_SHELLS = ["/bin/bash", "/bin/sh"];
/** Time for the setup calls (inspect, exec create, hijack) of one terminal. */
const OPEN_TIMEOUT_MS = 20_000;
/** After SIGHUP, how long a shell gets to leave before SIGKILL. */
const HANGUP_GRACE_MS = 2_000;

/** In every terminal exec's environment; `PIER_TERMINAL=<channel id>`. */
const MARKER = "PIER_TERMINAL";

/**
 * Run as root inside the container: signals every process whose environment carries the
 * terminal's marker (the shell and what it started). Only `sh` and `grep` are needed, which
 * nearly every image with a shell has; it works whatever PID namespace or user the agent has.
 */
const SIGNAL_MARKED =
  'for p in /proc/[0-9]*; do p=${p#/proc/}; [ "$p" = "$$" ] && continue; grep -qa "$1" /proc/$p/environ 2>/dev/null && kill -$2 $p 2>/dev/null; done; exit 0';

interface Session {
  id: string;
  mode: TerminalMode;
  container: string;
  execId: string | null;
  stream: Duplex;
  /** Output bytes sent and not yet acknowledged by the relay. */
  unacked: number;
  idleMs: number;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set once the session is over, by whichever end finished it first. */
  ending: boolean;
  /** Resizes run one after another, so the last one asked for is the size the TTY keeps. */
  resizing: Promise<void>;
}

/**
 * The host side of the interactive terminal (protocol/terminal.ts): opens an exec with a TTY or
 * attaches to a container, pumps the hijacked Docker connection to and from the relay in binary
 * frames with a flow-control window, and ends the process when the client goes away.
 */
export class Terminals {
  readonly #sessions = new Map<string, Session>();
  readonly #deps: TerminalDeps;

  constructor(deps: TerminalDeps) {
    this.#deps = deps;
  }

  get open(): number {
    return this.#sessions.size;
  }

  /** `term_open`: answers `term_opened` then streams, or `term_exit` with the reason it could not open. */
  async start(message: TermOpen): Promise<void> {
    const { log } = this.#deps;
    if (this.#sessions.has(message.id)) return;
    const signal = AbortSignal.timeout(OPEN_TIMEOUT_MS);
    let opened: { stream: Duplex; execId: string | null; cmd: string[] | null; tty: boolean };
    try {
      opened = message.mode === "exec" ? await this.#openExec(message, signal) : await this.#openAttach(message, signal);
    } catch (error) {
      const relayed = toRelayError(error);
      log.info("terminal failed to open", { id: message.id, container: message.container, code: relayed.code });
      this.#exit(message.id, "failed", null, relayed);
      return;
    }
    const session: Session = {
      id: message.id,
      mode: message.mode,
      container: message.container,
      execId: opened.execId,
      stream: opened.stream,
      unacked: 0,
      idleMs: message.idle_timeout_ms,
      idleTimer: undefined,
      ending: false,
      resizing: Promise.resolve(),
    };
    this.#sessions.set(session.id, session);
    this.#deps.send(encode({ type: "term_opened", id: session.id, mode: session.mode, cmd: opened.cmd, exec_id: opened.execId }));
    log.info("terminal opened", { id: session.id, mode: session.mode, container: session.container });
    this.#touch(session);
    this.#pump(session, opened.tty);
    // The size is set once the process runs (an exec cannot be resized before it starts).
    void this.resize(session.id, message.cols, message.rows);
  }

  /** A binary frame from the relay: keystrokes for one terminal. */
  input(frame: Uint8Array): void {
    const decoded = decodeTerminalFrame(frame);
    if (!decoded) return;
    const session = this.#sessions.get(decoded.channel);
    if (!session || session.ending) return;
    this.#touch(session);
    session.stream.write(decoded.payload);
  }

  resize(id: string, cols: number, rows: number): Promise<void> {
    const session = this.#sessions.get(id);
    if (!session || session.ending) return Promise.resolve();
    session.resizing = session.resizing.then(async () => {
      if (session.ending) return;
      const signal = AbortSignal.timeout(10_000);
      try {
        if (session.execId) await this.#deps.docker.transport.call(api.execResize, { execId: session.execId, cols, rows }, signal);
        else await this.#deps.docker.transport.call(api.containerResize, { id: session.container, cols, rows }, signal);
      } catch (error) {
        // A container without a TTY cannot be resized, and a process may exit mid-call: not fatal.
        this.#deps.log.debug("terminal resize failed", { id, error: (error as Error).message });
      }
    });
    return session.resizing;
  }

  ack(id: string, bytes: number): void {
    const session = this.#sessions.get(id);
    if (!session) return;
    session.unacked = Math.max(0, session.unacked - bytes);
    if (session.unacked < TERMINAL_WINDOW_BYTES / 2 && session.stream.isPaused()) session.stream.resume();
  }

  /** `term_close`: the client went away. An exec's process is ended; an attach only detaches. */
  async close(id: string): Promise<void> {
    const session = this.#sessions.get(id);
    if (!session || session.ending) return;
    await this.#end(session);
  }

  /** The relay socket dropped or the agent stops: every terminal ends (the relay closed its clients). */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.#sessions.values()].filter((s) => !s.ending).map((s) => this.#end(s)));
  }

  async #openExec(message: TermOpen, signal: AbortSignal) {
    const { transport } = this.#deps.docker;
    const cmd = message.cmd ?? (await this.#defaultShell(message.container, signal));
    const created = (await transport.json(
      api.execCreateTty,
      { id: message.container, cmd, user: message.user, workdir: message.workdir, marker: `${MARKER}=${message.id}` },
      signal,
    )) as { Id: string };
    const stream = await transport.upgrade(api.execStartTty, { execId: created.Id }, signal);
    return { stream, execId: created.Id, cmd, tty: true };
  }

  async #openAttach(message: TermOpen, signal: AbortSignal) {
    const container = await this.#deps.docker.inspectContainer(message.container, signal);
    const state = container.State as { Running?: boolean } | undefined;
    if (!state?.Running) throw new DockerError("container.attach", 409, `container ${message.container} is not running`);
    const tty = (container.Config as { Tty?: boolean } | undefined)?.Tty === true;
    const stream = await this.#deps.docker.transport.upgrade(api.containerAttach, { id: message.container }, signal);
    return { stream, execId: null, cmd: null, tty };
  }

  /** /bin/bash when the container has it, else /bin/sh: stat'ed through the archive endpoint, no exec spent. */
  async #defaultShell(container: string, signal: AbortSignal): Promise<string[]> {
    await this.#deps.docker.inspectContainer(container, signal); // a missing container is a 404, not "no shell"
    for (const shell of DEFAULT_SHELLS) {
      const found = await this.#deps.docker.transport.call(api.containerPathStat, { id: container, path: shell }, signal);
      if (found.changed) return [shell];
    }
    throw new DockerError(
      "exec.create",
      400,
      `container ${container} has neither ${DEFAULT_SHELLS.join(" nor ")}: pass the command to run with ?cmd=`,
    );
  }

  #pump(session: Session, tty: boolean): void {
    const demuxer = tty ? undefined : new MultiplexedStreamDemuxer();
    session.stream.on("data", (piece: Buffer) => {
      this.#touch(session);
      const payloads = demuxer ? demuxer.push(piece).map((f) => f.payload) : [piece];
      for (const payload of payloads) {
        for (let at = 0; at < payload.length; at += TERMINAL_FRAME_MAX_BYTES) {
          const part = payload.subarray(at, at + TERMINAL_FRAME_MAX_BYTES);
          if (!this.#deps.sendBinary(encodeTerminalFrame(session.id, part))) return;
          session.unacked += part.length;
        }
      }
      // Backpressure: the client reads slower than the process writes. Docker's side of the
      // connection then fills up and the process blocks on its TTY, as it would in a terminal.
      if (session.unacked >= TERMINAL_WINDOW_BYTES) session.stream.pause();
    });
    session.stream.on("error", (error) => this.#deps.log.debug("terminal stream error", { id: session.id, error: error.message }));
    session.stream.on("close", () => void this.#exited(session));
  }

  /** The Docker stream ended: the process exited (or, attached, the container stopped). */
  async #exited(session: Session): Promise<void> {
    if (session.ending) return;
    session.ending = true;
    this.#forget(session);
    const signal = AbortSignal.timeout(10_000);
    let exitCode: number | null = null;
    try {
      exitCode = session.execId
        ? (await this.#execState(session.execId, signal, true)).ExitCode
        : (((await this.#deps.docker.inspectContainer(session.container, signal)).State as { ExitCode?: number } | undefined)?.ExitCode ??
          null);
    } catch (error) {
      this.#deps.log.debug("terminal exit code unknown", { id: session.id, error: (error as Error).message });
    }
    this.#exit(session.id, "exited", exitCode);
    this.#deps.log.info("terminal exited", { id: session.id, exit_code: exitCode });
  }

  /**
   * Ends a session this side chose to end (client gone, idle, link down). Closing the hijacked
   * connection does not end an exec's process — Docker keeps the TTY open (moby#9098) and has no
   * call to kill an exec — so a process still running gets SIGHUP, as a terminal hang-up would
   * send, then SIGKILL.
   */
  async #end(session: Session, reason?: "idle"): Promise<void> {
    session.ending = true;
    this.#forget(session);
    session.stream.destroy();
    if (session.execId) await this.#killExec(session, session.execId);
    if (reason === "idle") this.#exit(session.id, "idle", null);
    this.#deps.log.info("terminal closed", { id: session.id, reason: reason ?? "client gone" });
  }

  async #killExec(session: Session, execId: string): Promise<void> {
    const signal = AbortSignal.timeout(HANGUP_GRACE_MS * 4);
    const marker = `${MARKER}=${session.id}`;
    try {
      let state = await this.#execState(execId, signal);
      for (const sig of ["HUP", "KILL"] as const) {
        if (!state.Running) return;
        await this.#signal(session.container, marker, state.Pid, sig, signal);
        const until = Date.now() + HANGUP_GRACE_MS;
        while (state.Running && Date.now() < until) {
          await sleep(50, undefined, { signal });
          state = await this.#execState(execId, signal);
        }
      }
      if (state.Running) this.#deps.log.warn("terminal process survived SIGKILL", { id: session.id, container: session.container });
    } catch (error) {
      this.#deps.log.warn("could not end the terminal's process", {
        id: session.id,
        container: session.container,
        error: (error as Error).message,
      });
    }
  }

  /**
   * Signals the exec's processes from inside the container (by their marker); where that cannot
   * run (no shell in the image), the exec's own PID on the host, which works when the agent may
   * signal it (root in the host's PID namespace).
   */
  async #signal(container: string, marker: string, hostPid: number, sig: "HUP" | "KILL", signal: AbortSignal): Promise<void> {
    try {
      const outcome = await this.#deps.docker.exec(
        container,
        { cmd: ["/bin/sh", "-c", SIGNAL_MARKED, "sh", marker, sig], user: "0", maxChars: 1024 },
        signal,
      );
      if (outcome.exitCode === 0) return;
    } catch (error) {
      if (signal.aborted) throw error;
    }
    if (hostPid > 0 && this.#deps.signalHostPids !== false) {
      try {
        process.kill(hostPid, `SIG${sig}`);
      } catch (error) {
        this.#deps.log.debug("terminal host-side signal failed", { pid: hostPid, error: (error as Error).message });
      }
    }
  }

  /** Exec inspect; with `settled`, waits briefly for the exit code, which can trail the stream's end. */
  async #execState(execId: string, signal: AbortSignal, settled = false) {
    for (let attempt = 0; ; attempt++) {
      const state = (await this.#deps.docker.transport.json(api.execInspectState, { execId }, signal)) as {
        Running: boolean;
        ExitCode: number | null;
        Pid: number;
      };
      if (!settled || !state.Running || attempt >= 50) return state;
      await sleep(20, undefined, { signal });
    }
  }

  #touch(session: Session): void {
    clearTimeout(session.idleTimer);
    session.idleTimer = setTimeout(() => void this.#end(session, "idle"), session.idleMs);
    session.idleTimer.unref?.();
  }

  #forget(session: Session): void {
    clearTimeout(session.idleTimer);
    this.#sessions.delete(session.id);
  }

  #exit(id: string, reason: TermExit["reason"], exitCode: number | null, error?: RelayError): void {
    this.#deps.send(
      encode(
        error ? { type: "term_exit", id, reason, exit_code: exitCode, error } : { type: "term_exit", id, reason, exit_code: exitCode },
      ),
    );
  }
}
