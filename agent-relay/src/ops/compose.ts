// Compose projects: `docker compose` (v2) where the host has it, else `docker-compose` (v1),
// and a clear refusal naming what to install when it has neither. The engine has no Compose API,
// so these ops run the CLI; `ps` alone reads the engine, by the label both versions put on every
// container they create, so it needs no compose file and answers the same for v1 and v2.
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as api from "../docker/endpoints.ts";
import { HostToolError } from "../errors.ts";
import {
  ComposeServiceName,
  type ComposePsRow,
  type ComposeRunResult,
  type ContainerSummary,
  type OpArgs,
  type PullProgress,
} from "../protocol.ts";
import type { OpContext, OpHandlers } from "./context.ts";
import { workDir } from "./deploy-git.ts";
import { lastLines, MissingToolError, start } from "./deploy-process.ts";

export const PROJECT_LABEL = "com.docker.compose.project";
const SERVICE_LABEL = "com.docker.compose.service";
/** What the agent keeps of a project sent as text: `<work dir>/compose/<project>/docker-compose.yml`. */
const KEPT_FILE = "docker-compose.yml";
const OUTPUT_LIMIT = 64 * 1024;

export const COMPOSE_MISSING =
  "Docker Compose is not installed on this host: neither `docker compose` (the v2 plugin) nor `docker-compose` was found. Install the Compose plugin (https://docs.docker.com/compose/install/linux/, e.g. `apt-get install docker-compose-plugin` from Docker's repository) or `docker-compose` (`apt-get install docker-compose` on Debian and Ubuntu), then retry.";

const keptDir = (project: string) => join(workDir(), "compose", project);

/** The Compose command line this host has, found on `path` (v2 first). */
export async function findCompose(signal: AbortSignal, path?: string): Promise<string[]> {
  const env = path === undefined ? {} : { PATH: path };
  const probe = async (command: string, args: string[]) => {
    try {
      const running = start(command, args, { signal, env });
      return (await running.done) === 0;
    } catch (error) {
      if (error instanceof MissingToolError) return false;
      throw error;
    }
  };
  if (await probe("docker", ["compose", "version"])) return ["docker", "compose"];
  if (await probe("docker-compose", ["version"])) return ["docker-compose"];
  throw new HostToolError("tool_missing", COMPOSE_MISSING);
}

type Source = OpArgs<"compose.down">;

/**
 * The working directory and `-f` flags for the project's source. A sent file is written beside
 * the kept one and takes its place only once Compose accepts it (`commit`), so a broken file
 * never replaces a good one.
 */
async function locate(source: Source): Promise<{ cwd: string; files: string[]; kept: boolean; commit?: () => Promise<void> }> {
  if (source.content !== undefined) {
    const dir = keptDir(source.project);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const incoming = `.incoming-${process.pid}-${Date.now()}.yml`;
    await writeFile(join(dir, incoming), source.content, { mode: 0o600 });
    return {
      cwd: dir,
      files: [incoming],
      kept: true,
      commit: () => rename(join(dir, incoming), join(dir, KEPT_FILE)),
    };
  }
  if (source.directory !== undefined) {
    const info = await stat(source.directory).catch(() => null);
    if (!info?.isDirectory()) throw new HostToolError("not_found", `No directory ${source.directory} on this host.`);
    return { cwd: source.directory, files: source.files ?? [], kept: false };
  }
  const dir = keptDir(source.project);
  if (await stat(join(dir, KEPT_FILE)).catch(() => null)) return { cwd: dir, files: [KEPT_FILE], kept: true };
  throw new HostToolError(
    "not_found",
    `No compose file is known for project ${source.project} on this host: send the file as \`content\` or name its \`directory\`.`,
  );
}

interface Invocation {
  command: string[];
  cwd: string;
  base: string[];
}

async function prepare(source: Source, ctx: OpContext): Promise<Invocation & { kept: boolean }> {
  const command = await findCompose(ctx.signal, ctx.toolPath);
  const { cwd, files, kept, commit } = await locate(source);
  const base = (f: string[]) => ["-p", source.project, ...f.flatMap((name) => ["-f", name])];
  // Compose's own check of the file first, so a broken file is the caller's error, in Compose's words.
  const checked = await compose({ command, cwd, base: base(files) }, ["config", "-q"], ctx);
  if (checked.code !== 0) {
    if (commit) await rm(join(cwd, files[0]!), { force: true });
    throw new HostToolError(
      "compose_invalid",
      `The compose file is invalid: ${lastLines(checked.output, 8) || `exit code ${checked.code}`}`,
    );
  }
  if (commit) {
    await commit();
    return { command, cwd, base: base([KEPT_FILE]), kept };
  }
  return { command, cwd, base: base(files), kept };
}

/** Runs one Compose command to its end; output (stdout and stderr, in order) is kept and handed to `onLine`. */
async function compose(
  inv: Invocation,
  args: string[],
  ctx: OpContext,
  onLine?: (line: string) => Promise<void>,
): Promise<{ code: number; output: string }> {
  const [program, ...prefix] = inv.command;
  let output = "";
  let partial = "";
  const running = start(program!, [...prefix, ...inv.base, ...args], {
    cwd: inv.cwd,
    signal: ctx.signal,
    env: {
      ...(ctx.toolPath !== undefined ? { PATH: ctx.toolPath } : {}),
      // Plain lines, not a redrawn terminal, whatever the version.
      COMPOSE_ANSI: "never",
      BUILDKIT_PROGRESS: "plain",
    },
    onOutput: async (text) => {
      output = (output + text).slice(-OUTPUT_LIMIT);
      if (!onLine) return;
      const lines = (partial + text).split(/\r?\n|\r/);
      partial = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) await onLine(line);
    },
  });
  const code = await running.done;
  if (onLine && partial.trim()) await onLine(partial);
  return { code, output };
}

function failed(what: string, result: { code: number; output: string }): HostToolError {
  return new HostToolError("tool_failed", `${what} failed (exit code ${result.code}): ${lastLines(result.output, 8)}`);
}

/** The project's containers, in `docker compose ps --format json`'s fields. */
export async function composePs(project: string, all: boolean, ctx: OpContext): Promise<ComposePsRow[]> {
  const list = (await ctx.docker.transport.json(
    api.containerList,
    { all, filters: { label: [`${PROJECT_LABEL}=${project}`] } },
    ctx.signal,
  )) as ContainerSummary[];
  return list
    .map((c) => ({
      ID: c.Id,
      Name: (c.Names[0] ?? "").replace(/^\//, ""),
      Service: c.Labels?.[SERVICE_LABEL] ?? "",
      Image: c.Image,
      State: c.State,
      Status: c.Status,
      Publishers: (c.Ports ?? [])
        .filter((p) => p.PublicPort)
        .map((p) => ({ URL: p.IP ?? "", TargetPort: p.PrivatePort, PublishedPort: p.PublicPort ?? 0, Protocol: p.Type })),
    }))
    .sort((a, b) => a.Service.localeCompare(b.Service) || a.Name.localeCompare(b.Name));
}

/** A streamed run: each line Compose prints becomes a `{progress, status}` line. */
function progressWriter(ctx: OpContext) {
  let progress = 0;
  return {
    say: (p: PullProgress) => ctx.output.write(`${JSON.stringify(p)}\n`),
    line: (line: string) => {
      // Compose says nothing about how far it is: each line moves the bar a little, never to the end.
      progress = Math.min(95, progress + 1);
      return ctx.output.write(`${JSON.stringify({ progress, status: line.trim() })}\n`);
    },
  };
}

const done = (project: string, command: string[], output: string): ComposeRunResult => ({
  project,
  command: command.join(" "),
  output,
});

export const composeOps: Pick<
  OpHandlers,
  "compose.config" | "compose.up" | "compose.pull" | "compose.down" | "compose.ps" | "compose.logs"
> = {
  "compose.config": async (args, ctx) => {
    // Checked without keeping anything: a sent file is only kept by the op that runs it.
    const command = await findCompose(ctx.signal, ctx.toolPath);
    let inv: Invocation;
    let scratch: string | undefined;
    if (args.content !== undefined) {
      scratch = await mkdtemp(join(tmpdir(), "pier-compose-"));
      await writeFile(join(scratch, KEPT_FILE), args.content, { mode: 0o600 });
      inv = { command, cwd: scratch, base: ["-p", args.project, "-f", KEPT_FILE] };
    } else {
      const { cwd, files } = await locate(args);
      inv = { command, cwd, base: ["-p", args.project, ...files.flatMap((f) => ["-f", f])] };
    }
    try {
      const result = await compose(inv, ["config", "--services"], ctx);
      if (result.code !== 0)
        throw new HostToolError(
          "compose_invalid",
          `The compose file is invalid: ${lastLines(result.output, 8) || `exit code ${result.code}`}`,
        );
      const services = result.output
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => ComposeServiceName.safeParse(l).success);
      return { project: args.project, command: command.join(" "), services };
    } finally {
      if (scratch) await rm(scratch, { recursive: true, force: true });
    }
  },

  "compose.up": async (args, ctx) => {
    const inv = await prepare(args, ctx);
    const { say, line } = progressWriter(ctx);
    await say({ progress: 0, status: `${inv.command.join(" ")} up (project ${args.project})` });
    let transcript = "";
    const v2 = inv.command.length === 2;
    // v1 has no `up --pull`: an "always" policy is a pull first; "missing" is what v1 does anyway.
    if (args.pull === "always" && !v2) {
      const pulled = await compose(inv, ["pull", ...(args.services ?? [])], ctx, line);
      transcript += pulled.output;
      if (pulled.code !== 0) throw failed(`${inv.command.join(" ")} pull`, pulled);
    }
    const flags = [
      "up",
      "-d",
      ...(args.remove_orphans ? ["--remove-orphans"] : []),
      ...(args.build ? ["--build"] : []),
      ...(v2 && args.pull ? ["--pull", args.pull] : []),
      ...(args.services ?? []),
    ];
    const result = await compose(inv, flags, ctx, line);
    transcript += result.output;
    if (result.code !== 0) throw failed(`${inv.command.join(" ")} up`, { ...result, output: transcript });
    const containers = await composePs(args.project, true, ctx);
    await say({ progress: 100, status: `${containers.filter((c) => c.State === "running").length} container(s) running` });
    return { ...done(args.project, inv.command, transcript.slice(-OUTPUT_LIMIT)), containers };
  },

  "compose.pull": async (args, ctx) => {
    const inv = await prepare(args, ctx);
    const { say, line } = progressWriter(ctx);
    await say({ progress: 0, status: `${inv.command.join(" ")} pull (project ${args.project})` });
    const result = await compose(inv, ["pull", ...(args.services ?? [])], ctx, line);
    if (result.code !== 0) throw failed(`${inv.command.join(" ")} pull`, result);
    await say({ progress: 100, status: "Pulled" });
    return done(args.project, inv.command, result.output);
  },

  "compose.down": async (args, ctx) => {
    const inv = await prepare(args, ctx);
    const result = await compose(inv, ["down", ...(args.volumes ? ["-v"] : []), ...(args.remove_orphans ? ["--remove-orphans"] : [])], ctx);
    if (result.code !== 0) throw failed(`${inv.command.join(" ")} down`, result);
    // The project is gone: so is the file kept for it.
    if (inv.kept) await rm(keptDir(args.project), { recursive: true, force: true });
    return done(args.project, inv.command, result.output);
  },

  "compose.ps": async (args, ctx) => ({ project: args.project, containers: await composePs(args.project, args.all ?? false, ctx) }),

  "compose.logs": async (args, ctx) => {
    const inv = await prepare(args, ctx);
    const flags = ["logs", "--no-color", "--tail", String(args.tail ?? 200), ...(args.timestamps ? ["-t"] : []), ...(args.services ?? [])];
    const result = await compose(inv, flags, ctx);
    if (result.code !== 0) throw failed(`${inv.command.join(" ")} logs`, result);
    return done(args.project, inv.command, result.output);
  },
};
