// `deploy.build`: turns an application's source into an image tagged `pier/<app>:<deployment>`,
// streaming what happens. Image sources are pulled per their pull policy and re-tagged (so a
// rollback finds the exact image again); git sources are fetched on the host and built from the
// commit's tree: Dockerfile and static builds stream `git archive` into the Engine's /build,
// the other build types run their own CLI on a checkout.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { MANAGED_LABEL, registryAuthHeader, splitReference } from "../docker/client.ts";
import * as api from "../docker/endpoints.ts";
import { DockerError } from "../docker/errors.ts";
import { DeployFailedError } from "../errors.ts";
import { APP_LABEL, DEPLOYMENT_LABEL, type BuildType, type DeployBuildArgs, type DeployBuildResult } from "../protocol.ts";
import type { OpContext } from "./context.ts";
import { imageBuild, inspectImage, readProgress, refuseForeignContainer, tagImage } from "./deploy-engine.ts";
import { openGit, type GitSession } from "./deploy-git.ts";
import { available, MissingToolError, run } from "./deploy-process.ts";
import { appendToTar } from "./deploy-tar.ts";

type GitBuild = Extract<DeployBuildArgs["source"], { type: "git" }>;

/** The image static sites are served from: busybox's httpd is a few hundred kilobytes. */
export const DEFAULT_STATIC_IMAGE = "busybox:stable";
const STATIC_DOCKERFILE = ".pier.static.Dockerfile";

export async function deployBuild(args: DeployBuildArgs, ctx: OpContext): Promise<DeployBuildResult> {
  try {
    return await build(args, ctx);
  } catch (error) {
    // The engine's refusal (no such Dockerfile, no such image) is the deployment's failure reason.
    if (error instanceof DockerError)
      throw new DeployFailedError(`${error.endpoint === "image.build" ? "docker build" : error.endpoint} failed: ${error.engineMessage}`, {
        cause: error,
      });
    throw error;
  }
}

async function build(args: DeployBuildArgs, ctx: OpContext): Promise<DeployBuildResult> {
  const say = (text: string) => ctx.output.write(text);
  const labels = { [MANAGED_LABEL]: "true", [APP_LABEL]: args.app_id, [DEPLOYMENT_LABEL]: args.deployment_id };
  // The container will be named after the app: a clash is found before a minute of building.
  // (Compose names its own containers.)
  if (args.source.type === "image" || args.source.build_type !== "compose")
    await refuseForeignContainer(ctx.docker, args.app_name, { kind: args.kind ?? "application", id: args.app_id }, ctx.signal);
  if (args.source.type === "image") return fromImage(args, args.source, ctx, say);

  const source = args.source;
  // A missing tool fails before anything is fetched.
  const compose = source.build_type === "compose" ? await composeCommand(ctx.signal) : undefined;
  const tool = TOOLS[source.build_type];
  if (tool && !(await available(tool.command, tool.probe, ctx.signal))) throw new MissingToolError(tool.missing);

  const git = await openGit(source.git, args.app_id, ctx.signal);
  try {
    const { sha, message } = await git.resolve(say);
    const done = (image: string | null, imageId: string | null, isCompose = false): DeployBuildResult => ({
      image,
      image_id: imageId,
      commit: sha,
      commit_message: message,
      compose: isCompose,
    });

    if (source.build_type === "dockerfile" || source.build_type === "static") {
      const imageId = await buildFromArchive(args, source, git, sha, labels, ctx, say);
      return done(args.image_tag, imageId);
    }
    const dir = await git.worktree(sha, args.deployment_id);
    const output = { env: dockerEnv(), signal: ctx.signal, redact: git.redact, onOutput: say, cwd: dir };
    if (compose) {
      // The environment goes to the project's .env (removed with the worktree), not the command line.
      await writeFile(
        join(dir, ".env"),
        `${Object.entries(source.env ?? {})
          .map(([k, v]) => `${k}=${composeEnvValue(v)}`)
          .join("\n")}\n`,
        { mode: 0o600 },
      );
      const file = source.compose_file ?? "docker-compose.yml";
      await say(`==> ${compose.join(" ")} up (project ${args.app_name}, file ${file})\n`);
      const [command, ...prefix] = compose;
      await run(
        command!,
        [...prefix, "-p", args.app_name, "-f", file, "up", "-d", "--build", "--remove-orphans"],
        output,
        "docker compose up",
      );
      return done(null, null, true);
    }
    await say(`==> Building with ${tool!.command} (${source.build_type})\n`);
    await run(tool!.command, tool!.args(dir, args.image_tag, labels), output, `${tool!.command} build`);
    const image = await inspectImage(ctx.docker, args.image_tag, ctx.signal);
    if (!image) throw new DeployFailedError(`${tool!.command} finished but produced no image ${args.image_tag}`);
    return done(args.image_tag, String(image.Id ?? ""));
  } finally {
    await git.close();
  }
}

async function fromImage(
  args: DeployBuildArgs,
  source: Extract<DeployBuildArgs["source"], { type: "image" }>,
  ctx: OpContext,
  say: (t: string) => Promise<void>,
): Promise<DeployBuildResult> {
  const { docker, signal } = ctx;
  let image = source.pull_policy === "always" ? null : await inspectImage(docker, source.image, signal);
  if (!image) {
    if (source.pull_policy === "never") {
      throw new DeployFailedError(
        `the image ${source.image} is not on this host and the pull policy is "never": build or load it on the host, or use "missing"`,
      );
    }
    await say(`==> Pulling ${source.image}\n`);
    const { name, tag } = splitReference(source.image);
    const registryAuth = registryAuthHeader(source.auth);
    const reply = await docker.transport.send(api.imagePull, { fromImage: name, tag, registryAuth }, signal);
    await readProgress(reply.body, say);
    image = await inspectImage(docker, source.image, signal);
    if (!image) throw new DeployFailedError(`the pull of ${source.image} finished but the image is not on the host`);
  } else {
    await say(`==> Using ${source.image} already on the host (pull policy ${source.pull_policy})\n`);
  }
  const imageId = String(image.Id ?? "");
  // The deployment's own tag pins the exact image: a rollback runs this, not whatever the
  // mutable tag points at by then.
  if (args.image_tag !== source.image) {
    await tagImage(docker, imageId, args.image_tag, signal);
    await say(`==> Image ${imageId.slice(0, 19)} tagged ${args.image_tag}\n`);
  }
  return { image: args.image_tag, image_id: imageId, commit: null, commit_message: null, compose: false };
}

/** Streams the commit's tree into the Engine's /build (with a generated Dockerfile for static sites). */
async function buildFromArchive(
  args: DeployBuildArgs,
  source: GitBuild,
  git: GitSession,
  sha: string,
  labels: Record<string, string>,
  ctx: OpContext,
  say: (t: string) => Promise<void>,
): Promise<string | null> {
  const archive = git.archive(sha);
  let context: AsyncIterable<Uint8Array> = archive.stream;
  let dockerfile = source.dockerfile;
  if (source.build_type === "static") {
    context = appendToTar(archive.stream, [
      { name: STATIC_DOCKERFILE, content: staticDockerfile(source.static_image ?? DEFAULT_STATIC_IMAGE, source.publish_dir) },
    ]);
    dockerfile = STATIC_DOCKERFILE;
    await say(
      `==> Static site from ${source.publish_dir ? `${source.publish_dir}/` : "the repository root"}, served by httpd in ${source.static_image ?? DEFAULT_STATIC_IMAGE}\n`,
    );
  }
  await say(`==> docker build -t ${args.image_tag}${dockerfile ? ` -f ${dockerfile}` : ""}\n`);
  const archiveFailed = archive.process.done.then(
    (code) => (code === 0 ? null : new DeployFailedError(`git archive failed (exit code ${code}): ${archive.process.stderrTail().trim()}`)),
    (error: unknown) => error as Error,
  );
  try {
    const reply = await ctx.docker.transport.send(
      imageBuild,
      { context: Readable.from(context), t: args.image_tag, dockerfile, labels },
      ctx.signal,
    );
    const { imageId } = await readProgress(reply.body, say);
    const failed = await archiveFailed;
    if (failed) throw failed;
    return imageId;
  } catch (error) {
    // A broken archive explains a failed build better than the engine's "unexpected EOF".
    const failed = await Promise.race([archiveFailed, new Promise<null>((r) => setTimeout(() => r(null), 100))]);
    throw failed ?? error;
  }
}

/** Serves the publish directory with busybox httpd on port 80. */
export function staticDockerfile(baseImage: string, publishDir: string | undefined): string {
  const from = publishDir ? `${publishDir.replace(/^\.?\/*/, "").replace(/\/+$/, "")}/` : ".";
  return [
    `FROM ${baseImage}`,
    `COPY ${from === "/" ? "." : from} /www/`,
    "EXPOSE 80",
    // -f: foreground (the container's process), -v: log requests to stderr.
    'CMD ["httpd", "-f", "-v", "-p", "80", "-h", "/www"]',
    "",
  ].join("\n");
}

interface Tool {
  command: string;
  probe: string[];
  args: (dir: string, tag: string, labels: Record<string, string>) => string[];
  missing: string;
}

const missing = (buildType: string, command: string, where: string) =>
  `the ${buildType} build type needs the \`${command}\` CLI on the host's PATH, and it is not installed: install it (${where}) or choose another build type (dockerfile or static need nothing but Docker)`;

const TOOLS: Partial<Record<BuildType, Tool>> = {
  nixpacks: {
    command: "nixpacks",
    probe: ["--version"],
    args: (dir, tag, labels) => ["build", dir, "--name", tag, ...Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`])],
    missing: missing("nixpacks", "nixpacks", "https://nixpacks.com/docs/install"),
  },
  heroku_buildpacks: {
    command: "pack",
    probe: ["version"],
    args: (dir, tag) => ["build", tag, "--path", dir, "--builder", "heroku/builder:24", "--trust-builder"],
    missing: missing("heroku_buildpacks", "pack", "https://buildpacks.io/docs/for-platform-operators/how-to/integrate-ci/pack/"),
  },
  paketo_buildpacks: {
    command: "pack",
    probe: ["version"],
    args: (dir, tag) => ["build", tag, "--path", dir, "--builder", "paketobuildpacks/builder-jammy-base"],
    missing: missing("paketo_buildpacks", "pack", "https://buildpacks.io/docs/for-platform-operators/how-to/integrate-ci/pack/"),
  },
  railpack: {
    command: "railpack",
    probe: ["--version"],
    args: (dir, tag) => ["build", dir, "--name", tag],
    missing: missing("railpack", "railpack", "https://railpack.com/installation"),
  },
};

/** `docker compose` (the plugin) or `docker-compose`, whichever the host has. */
async function composeCommand(signal: AbortSignal): Promise<string[]> {
  if (await available("docker", ["compose", "version"], signal)) return ["docker", "compose"];
  if (await available("docker-compose", ["version"], signal)) return ["docker-compose"];
  throw new MissingToolError(
    "the compose build type needs Docker Compose on the host, and neither `docker compose` nor `docker-compose` was found: install the Compose plugin (https://docs.docker.com/compose/install/) or docker-compose, or choose another build type",
  );
}

/** A `.env` value Compose reads back as is: single quotes are literal (no `$` interpolation). */
function composeEnvValue(value: string): string {
  return value.includes("'") || value.includes("\n") ? JSON.stringify(value) : `'${value}'`;
}

/** Build tools talk to the same engine as the agent. */
function dockerEnv(): Record<string, string | undefined> {
  return { DOCKER_HOST: process.env.DOCKER_HOST };
}
