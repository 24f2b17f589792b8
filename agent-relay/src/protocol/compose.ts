import * as z from "zod/mini";
import type { OpSpec } from "./ops.ts";
import { wellFormed } from "./refs.ts";

// Compose projects on a host: up, pull, down, ps, logs — run by `docker compose` (v2) where the
// host has it, else by `docker-compose` (v1). A project comes from a compose file sent as text
// (kept by the agent under its work directory, so later calls can name the project alone) or from
// a directory on the host that holds one.

/** Compose's own grammar for project names (lower-case, digits, `-` and `_`, a letter or digit first). */
export const ComposeProjectName = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(63),
    z.regex(
      /^[a-z0-9][a-z0-9_-]*$/,
      "must be a Compose project name: lower-case letters, digits, '-' and '_', starting with a letter or digit",
    ),
  );

/** A service of the project, as the compose file names it. */
export const ComposeServiceName = z
  .string()
  .check(z.maxLength(255), z.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "must be a service name: [a-zA-Z0-9][a-zA-Z0-9_.-]*"));

/** Where the project is: its compose file as text, a directory on the host, or (neither) what the agent kept from an earlier `content`. */
export const ComposeSource = z.object({
  project: ComposeProjectName,
  /** The compose file (YAML). The agent keeps it for the project until `down`. */
  content: z.optional(z.string().check(z.minLength(1), z.maxLength(256 * 1024))),
  /** An absolute directory on the host holding the project's compose file (its `.env` and build contexts beside it). */
  directory: z.optional(
    z.string().check(
      z.maxLength(4096),
      z.refine((s) => s.startsWith("/") && wellFormed(s) && !s.split("/").includes(".."), {
        message: "must be an absolute directory on the host, without '..'",
      }),
    ),
  ),
  /** Compose file names inside `directory` (default: Compose's own search, docker-compose.yml / compose.yaml …). */
  files: z.optional(
    z
      .array(
        z.string().check(
          z.maxLength(255),
          z.regex(/^[a-zA-Z0-9_.-][a-zA-Z0-9_./-]*$/, "must be a relative file name"),
          z.refine((s) => !s.split("/").includes(".."), { message: "must not contain '..'" }),
        ),
      )
      .check(z.maxLength(8)),
  ),
});

const oneSource = <T extends { content?: string; directory?: string; files?: string[] }>(s: T) =>
  !(s.content !== undefined && s.directory !== undefined) && !(s.files !== undefined && s.directory === undefined);
const oneSourceMessage = { message: "send either `content` or `directory` (with `files` only beside `directory`), not both" };

export const ComposeUpArgs = z
  .extend(ComposeSource, {
    /** Only these services (and what they depend on). */
    services: z.optional(z.array(ComposeServiceName).check(z.maxLength(100))),
    /** Compose's pull policy for `up`. */
    pull: z.optional(z.enum(["always", "missing", "never"])),
    /** Build images that have a `build:` section before starting. */
    build: z.optional(z.boolean()),
    /** Remove containers of services no longer in the file. */
    remove_orphans: z.optional(z.boolean()),
  })
  .check(z.refine(oneSource, oneSourceMessage));

export const ComposePullArgs = z
  .extend(ComposeSource, {
    services: z.optional(z.array(ComposeServiceName).check(z.maxLength(100))),
  })
  .check(z.refine(oneSource, oneSourceMessage));

export const ComposeDownArgs = z
  .extend(ComposeSource, {
    /** Also the project's named volumes (their data is gone for good). */
    volumes: z.optional(z.boolean()),
    remove_orphans: z.optional(z.boolean()),
  })
  .check(z.refine(oneSource, oneSourceMessage));

export const ComposeLogsArgs = z
  .extend(ComposeSource, {
    services: z.optional(z.array(ComposeServiceName).check(z.maxLength(100))),
    /** Lines from the end of each service's log (default 200). */
    tail: z.optional(z.number().check(z.int(), z.gte(0), z.lte(10_000))),
    timestamps: z.optional(z.boolean()),
  })
  .check(z.refine(oneSource, oneSourceMessage));

/** `ps` reads the engine's containers by the project's label: no compose file is needed. */
export const ComposePsArgs = z.object({
  project: ComposeProjectName,
  /** Stopped containers too (`ps -a`). */
  all: z.optional(z.boolean()),
});

/** Compose's check of a project (`config`): the services it defines, or the refusal in Compose's words. */
export const ComposeConfigArgs = ComposeSource.check(z.refine(oneSource, oneSourceMessage));

export const COMPOSE_OPS = {
  "compose.config": { args: ComposeConfigArgs, timeoutMs: 60_000, streaming: false, idempotent: true },
  // Output streams as `chunk`s of JSON lines ({progress, status}: one per line Compose prints); the
  // outcome rides on `end.data`.
  "compose.up": { args: ComposeUpArgs, timeoutMs: 30 * 60_000, streaming: true, idempotent: false },
  "compose.pull": { args: ComposePullArgs, timeoutMs: 30 * 60_000, streaming: true, idempotent: true },
  "compose.down": { args: ComposeDownArgs, timeoutMs: 5 * 60_000, streaming: false, idempotent: true },
  "compose.ps": { args: ComposePsArgs, timeoutMs: 15_000, streaming: false, idempotent: true },
  "compose.logs": { args: ComposeLogsArgs, timeoutMs: 60_000, streaming: false, idempotent: true },
} as const satisfies Record<string, OpSpec>;

/** One published port, as `docker compose ps --format json` shows it. */
export interface ComposePublisher {
  URL: string;
  TargetPort: number;
  PublishedPort: number;
  Protocol: string;
}

/** One container of the project, in the field names of `docker compose ps --format json`. */
export interface ComposePsRow {
  ID: string;
  Name: string;
  Service: string;
  Image: string;
  State: string;
  Status: string;
  Publishers: ComposePublisher[];
}

export interface ComposeRunResult {
  project: string;
  /** The command that ran it: `docker compose` or `docker-compose`. */
  command: string;
  /** What Compose printed (the last 64 KiB when it printed more). */
  output: string;
}

export interface ComposeOpResults {
  "compose.config": { project: string; command: string; services: string[] };
  /** Streaming: the `data` of the final `end`, with the project's containers afterwards. */
  "compose.up": ComposeRunResult & { containers: ComposePsRow[] };
  "compose.pull": ComposeRunResult;
  "compose.down": ComposeRunResult;
  "compose.ps": { project: string; containers: ComposePsRow[] };
  "compose.logs": ComposeRunResult;
}
