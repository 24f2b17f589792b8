// Git for deployments, with the git CLI: one bare repository per application under the agent's
// work directory (fetches are incremental), the commit resolved there, and its tree handed to the
// build as a `git archive` tar stream (or checked out into a worktree for the build tools).
//
// Credentials never appear on a command line (visible in `ps`) or in output: a token rides in
// GIT_CONFIG_* environment variables as an HTTP header, a deploy key in a 0600 file named by
// GIT_SSH_COMMAND, and every piece of output passes through a redactor.
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { GitSource } from "../protocol.ts";
import { capture, type Redactor, redactor, run, start, type Running } from "./deploy-process.ts";

/** Where the agent keeps repositories and build directories (PIER_AGENT_WORK_DIR). */
export const workDir = (): string => process.env.PIER_AGENT_WORK_DIR || join(tmpdir(), "pier-agent");

/** The URL without any credentials in it, for output. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) {
      parsed.username = "";
      parsed.password = "";
    }
    return parsed.toString();
  } catch {
    return url; // scp-like "git@host:path" carries no secret
  }
}

export interface GitSession {
  gitDir: string;
  redact: Redactor;
  /** Fetches the branch (and the commit if it is not on it) and resolves the commit to build. */
  resolve(say: (text: string) => Promise<void>): Promise<{ sha: string; message: string }>;
  /** `git archive` of the commit (or a subdirectory of it) as a tar stream. */
  archive(sha: string): { stream: Readable; process: Running };
  /** A checkout of the commit in a fresh directory, for tools that build from files. */
  worktree(sha: string, name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openGit(source: GitSource, appId: string, signal: AbortSignal): Promise<GitSession> {
  const base = workDir();
  const gitDir = join(base, "repos", `${appId}.git`);
  await mkdir(join(base, "repos"), { recursive: true });

  const env: Record<string, string> = { GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "", SSH_ASKPASS: "" };
  const secrets: Array<string | undefined> = [];
  try {
    const parsed = new URL(source.url);
    if (parsed.password) secrets.push(decodeURIComponent(parsed.password), parsed.password);
  } catch {
    // not a URL with credentials
  }
  if (source.token) {
    const basic = Buffer.from(`${source.username || "x-access-token"}:${source.token}`).toString("base64");
    Object.assign(env, {
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.extraHeader",
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    });
    secrets.push(source.token, basic);
  }
  let keyFile: string | undefined;
  if (source.deploy_key) {
    await mkdir(join(base, "keys"), { recursive: true, mode: 0o700 });
    keyFile = join(base, "keys", randomUUID());
    await writeFile(keyFile, source.deploy_key.endsWith("\n") ? source.deploy_key : `${source.deploy_key}\n`, { mode: 0o600 });
    await chmod(keyFile, 0o600);
    // accept-new: the first connection to a git host records its key, later ones must match.
    env.GIT_SSH_COMMAND = `ssh -i ${keyFile} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=${join(base, "known_hosts")}`;
    secrets.push(source.deploy_key);
  }
  const redact = redactor(secrets);
  const git = (args: string[]) => ["--git-dir", gitDir, ...args];
  const opts = { env, signal, redact };
  const worktrees: string[] = [];

  if (!existsSync(join(gitDir, "HEAD"))) await run("git", ["init", "--bare", "--quiet", gitDir], opts, "git init");

  return {
    gitDir,
    redact,
    async resolve(say) {
      const branchRef = `refs/heads/${source.branch}`;
      await say(`==> Fetching ${displayUrl(source.url)} (branch ${source.branch})\n`);
      await run(
        "git",
        git(["fetch", "--force", "--no-tags", "--prune", "--quiet", source.url, `+${branchRef}:${branchRef}`]),
        { ...opts, onOutput: say },
        "git fetch",
      );
      let target = branchRef;
      if (source.commit) {
        const known = await capture("git", git(["cat-file", "-t", source.commit]), opts).then(
          (t) => t.trim() === "commit",
          () => false,
        );
        // A commit that is not on the branch (anymore): ask the server for it by id.
        if (!known)
          await run(
            "git",
            git(["fetch", "--quiet", "--no-tags", source.url, source.commit]),
            { ...opts, onOutput: say },
            `git fetch ${source.commit}`,
          );
        target = source.commit;
      }
      const sha = (await capture("git", git(["rev-parse", "--verify", "--quiet", `${target}^{commit}`]), opts)).trim();
      const message = (await capture("git", git(["log", "-1", "--format=%B", sha]), opts)).trim();
      await say(`==> Commit ${sha.slice(0, 12)}: ${message.split("\n")[0]}\n`);
      return { sha, message };
    },
    archive(sha) {
      const treeish = source.path ? `${sha}:${source.path.replace(/\/+$/, "")}` : sha;
      const process = start("git", git(["archive", "--format=tar", treeish]), { ...opts, pipeStdout: true });
      return { stream: process.stdout!, process };
    },
    async worktree(sha, name) {
      const dir = join(base, "builds", name);
      await rm(dir, { recursive: true, force: true });
      await mkdir(join(base, "builds"), { recursive: true });
      await run("git", git(["worktree", "add", "--detach", "--force", dir, sha]), opts, "git worktree add");
      worktrees.push(dir);
      return source.path ? join(dir, source.path) : dir;
    },
    async close() {
      for (const dir of worktrees) {
        await run("git", git(["worktree", "remove", "--force", dir]), { ...opts, signal: AbortSignal.timeout(30_000) }).catch(
          () => undefined,
        );
        await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      }
      if (worktrees.length)
        await run("git", git(["worktree", "prune"]), { ...opts, signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
      if (keyFile) await rm(keyFile, { force: true }).catch(() => undefined);
    },
  };
}
