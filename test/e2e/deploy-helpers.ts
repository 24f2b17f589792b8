// Helpers for the deployment end-to-end tests: local git repositories (file://), waiting for a
// deployment to settle, signing webhook deliveries like each provider, and cleaning up what a
// test's applications left on the Docker engine.
import { createHmac } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api, docker, run, waitFor, type Owner } from "./client.ts";

export interface TestRepo {
  dir: string;
  url: string;
  /** Writes files and commits them; returns the commit sha. */
  commit(files: Record<string, string>, message: string): Promise<string>;
  remove(): Promise<void>;
}

export async function gitRepo(branch = "main"): Promise<TestRepo> {
  const dir = await mkdtemp(join(tmpdir(), "pier-e2e-repo-"));
  const git = (...args: string[]) => run("git", ["-C", dir, "-c", "user.name=Pier Test", "-c", "user.email=test@example.test", ...args]);
  await git("init", "-q", "-b", branch);
  return {
    dir,
    url: `file://${dir}`,
    async commit(files, message) {
      for (const [name, content] of Object.entries(files)) {
        await run("mkdir", ["-p", join(dir, name, "..")]);
        await writeFile(join(dir, name), content);
      }
      await git("add", "-A");
      await git("commit", "-q", "--allow-empty", "-m", message);
      return (await git("rev-parse", "HEAD")).stdout.trim();
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export const FINISHED = ["succeeded", "failed", "cancelled"];

export async function waitDeployment(
  owner: Owner,
  id: string,
  until: (d: any) => boolean = (d) => FINISHED.includes(d.status),
  timeout = 90_000,
): Promise<any> {
  return waitFor(
    `deployment ${id}`,
    async () => {
      const res = await api(`/api/v1/deployments/${id}`, { token: owner.token });
      return until(res.body) ? res.body : undefined;
    },
    { timeout },
  );
}

export async function deployLogs(owner: Owner, id: string): Promise<string> {
  const res = await api(`/api/v1/deployments/${id}/logs`, { token: owner.token });
  return (res.body.logs as Array<{ text: string }>).map((l) => l.text).join("");
}

export const hmac = (secret: string, body: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

/** A delivery as GitHub sends it: X-GitHub-Event, X-GitHub-Delivery, X-Hub-Signature-256. */
export function githubDelivery(secret: string, payload: unknown, event = "push", delivery = crypto.randomUUID()) {
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/e2e",
      "x-github-event": event,
      "x-github-delivery": delivery,
      "x-hub-signature-256": hmac(secret, body),
    },
  };
}

/** GitHub's push event payload (https://docs.github.com/webhooks/webhook-events-and-payloads#push), trimmed to its documented core. */
export function githubPush(branch: string, sha: string, message: string, repoUrl: string) {
  const commit = {
    id: sha,
    tree_id: sha,
    distinct: true,
    message,
    timestamp: new Date().toISOString(),
    url: `${repoUrl}/commit/${sha}`,
    author: { name: "Pier Test", email: "test@example.test", username: "pier" },
    committer: { name: "Pier Test", email: "test@example.test", username: "pier" },
    added: [],
    removed: [],
    modified: ["index.html"],
  };
  return {
    ref: `refs/heads/${branch}`,
    before: "0000000000000000000000000000000000000001",
    after: sha,
    repository: { id: 1, name: "site", full_name: "pier/site", private: true, default_branch: branch, clone_url: repoUrl },
    pusher: { name: "pier", email: "test@example.test" },
    sender: { login: "pier", id: 1 },
    created: false,
    deleted: false,
    forced: false,
    base_ref: null,
    compare: `${repoUrl}/compare`,
    commits: [commit],
    head_commit: commit,
  };
}

/** GitLab's Push Hook (https://docs.gitlab.com/user/project/integrations/webhook_events/#push-events). */
export function gitlabPush(branch: string, sha: string, message: string) {
  return {
    object_kind: "push",
    event_name: "push",
    before: "95790bf891e76fee5e1747ab589903a6a1f80f22",
    after: sha,
    ref: `refs/heads/${branch}`,
    ref_protected: true,
    checkout_sha: sha,
    message: null,
    user_id: 4,
    user_name: "Pier Test",
    user_username: "pier",
    user_email: "",
    project_id: 15,
    project: {
      id: 15,
      name: "site",
      web_url: "https://gitlab.example.com/pier/site",
      path_with_namespace: "pier/site",
      default_branch: branch,
    },
    commits: [
      {
        id: sha,
        message,
        title: message.split("\n")[0],
        timestamp: new Date().toISOString(),
        url: `https://gitlab.example.com/pier/site/-/commit/${sha}`,
        author: { name: "Pier Test", email: "[REDACTED]" },
        added: [],
        modified: ["index.html"],
        removed: [],
      },
    ],
    total_commits_count: 1,
    repository: { name: "site", url: "git@gitlab.example.com:pier/site.git", homepage: "https://gitlab.example.com/pier/site" },
  };
}

/** Bitbucket Cloud's repo:push (https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/#Push). */
export function bitbucketPush(branch: string, sha: string, message: string) {
  return {
    actor: { type: "user", display_name: "Pier Test", uuid: "{00000000-0000-0000-0000-000000000001}" },
    repository: { type: "repository", full_name: "pier/site", name: "site", uuid: "{00000000-0000-0000-0000-000000000002}" },
    push: {
      changes: [
        {
          new: {
            type: "branch",
            name: branch,
            target: {
              type: "commit",
              hash: sha,
              message: `${message}\n`,
              date: new Date().toISOString(),
              author: { raw: "Pier Test <test@example.test>" },
            },
          },
          old: { type: "branch", name: branch, target: { type: "commit", hash: "0123456789abcdef0123456789abcdef01234567" } },
          created: false,
          forced: false,
          closed: false,
          truncated: false,
          commits: [{ hash: sha, message: `${message}\n` }],
        },
      ],
    },
  };
}

export async function post(url: string, delivery: { body: string; headers: Record<string, string> }) {
  const res = await fetch(url, { method: "POST", headers: delivery.headers, body: delivery.body });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body };
}

/** Removes the containers, images and volumes an application (or database) left on the engine. */
export async function cleanupOwner(label: "dev.pier.app" | "dev.pier.database", id: string, appName?: string): Promise<void> {
  const containers = await docker("ps", "-aq", "--filter", `label=${label}=${id}`).catch(() => "");
  if (containers) await docker("rm", "-f", ...containers.split("\n")).catch(() => undefined);
  const images = await docker("images", "-q", "--filter", `label=${label}=${id}`).catch(() => "");
  if (images) await docker("rmi", "-f", ...new Set(images.split("\n"))).catch(() => undefined);
  // Pulled images are only re-tagged `pier/<app name>:<deployment>`: drop the tags.
  if (appName) {
    const tags = await docker("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", `reference=pier/${appName}`).catch(() => "");
    if (tags) await docker("rmi", ...tags.split("\n")).catch(() => undefined);
  }
}

/**
 * A test's project gone from the engine. First the way a user deletes it, through Pier while the
 * host's agent is still online: Pier removes its applications' containers, images and the project's
 * network. Then by the CLI, whatever a failed step left: the applications' containers and image
 * tags, and the network once they are gone (the order matters: a network with a container
 * attached is not removed, and that is how one `pier-prj_*` network leaked per suite run).
 */
export async function removeProject(
  access: { token: string; url?: string },
  projectId: string | undefined,
  apps: Array<{ id: string; app_name: string } | undefined> = [],
): Promise<void> {
  if (!projectId) return;
  await api(`/api/v1/projects/${projectId}?force=true`, { ...access, method: "DELETE" }).catch(() => undefined);
  for (const app of apps) if (app) await cleanupOwner("dev.pier.app", app.id, app.app_name).catch(() => undefined);
  await docker("network", "rm", `pier-${projectId}`).catch(() => undefined);
}

/** `docker exec <name> wget -qO- <url>`: what the container serves, from inside it. */
export const served = (name: string, url = "http://127.0.0.1:8080/") => docker("exec", name, "wget", "-q", "-O", "-", url);
