import type { OpHandlers, OpContext } from "./context.ts";
import type { OpArgs } from "../protocol.ts";
import { ImagePullError } from "../docker/client.ts";
import { DockerError } from "../docker/errors.ts";
import { planContainerCreate } from "./container-spec.ts";

type ContainerOps =
  | "container.list"
  | "container.inspect"
  | "container.create"
  | "container.start"
  | "container.stop"
  | "container.restart"
  | "container.kill"
  | "container.pause"
  | "container.unpause"
  | "container.remove"
  | "container.top";

/** The Engine's answer to a create whose image is not on the host. */
const isMissingImage = (error: unknown) =>
  error instanceof DockerError && error.status === 404 && /no such image/i.test(error.engineMessage);

const howToPull = (image: string) =>
  `pull it first with POST /api/v1/hosts/{hostId}/images/pull and the body ${JSON.stringify({ image })} (progress as a task; add "auth": {"username", "password"} for a private registry), or load it on the host (docker load), then create the container again`;

/** Pulls the image for a create, or explains in a 404 how to get it onto the host. */
async function pullForCreate(docker: OpContext["docker"], image: string, signal: AbortSignal): Promise<void> {
  try {
    await docker.pullImage(image, {}, signal);
  } catch (error) {
    if (!(error instanceof ImagePullError || error instanceof DockerError)) throw error;
    const reason = error instanceof DockerError ? error.engineMessage : error.message;
    throw new DockerError(
      "image.pull",
      404,
      `the image ${image} is not on this host and could not be pulled (${reason}): ${howToPull(image)}`,
    );
  }
}

/**
 * "Run" is create-then-start; when the start fails (a port already taken, say) the new container
 * is removed again, so the caller is not left with a half-made one to clean up. The image is
 * pulled per `pull_policy` (as for applications): `missing` pulls it only when the create finds
 * it absent, `always` first, `never` answers 404 with how to pull it.
 */
async function createContainer(args: OpArgs<"container.create">, { docker, signal }: OpContext) {
  const policy = args.pull_policy ?? "missing";
  const plan = planContainerCreate(args);
  for (const volume of plan.namedVolumes) await docker.createVolume(volume, signal);
  if (policy === "always") await pullForCreate(docker, args.image, signal);
  let created: Awaited<ReturnType<typeof docker.createContainer>>;
  try {
    created = await docker.createContainer(plan.name, plan.body, signal);
  } catch (error) {
    if (!isMissingImage(error)) throw error;
    if (policy === "never") {
      throw new DockerError(
        "container.create",
        404,
        `the image ${args.image} is not on this host and pull_policy is "never": ${howToPull(args.image)}`,
      );
    }
    await pullForCreate(docker, args.image, signal);
    created = await docker.createContainer(plan.name, plan.body, signal);
  }
  if (args.start) {
    try {
      await docker.startContainer(created.id, signal);
    } catch (error) {
      await docker.removeContainer(created.id, { force: true }, AbortSignal.timeout(10_000)).catch(() => {});
      throw error;
    }
  }
  const inspected = await docker.inspectContainer(created.id, signal);
  return {
    id: created.id,
    name: String(inspected.Name ?? "").replace(/^\//, ""),
    warnings: created.warnings,
    started: args.start === true,
  };
}

export const containerOps: Pick<OpHandlers, ContainerOps> = {
  "container.list": (args, { docker, signal }) => docker.listContainers({ all: args.all }, signal),
  "container.inspect": (args, { docker, signal }) => docker.inspectContainer(args.id, signal),
  "container.create": createContainer,
  "container.start": async (args, { docker, signal }) => ({ id: args.id, ...(await docker.startContainer(args.id, signal)) }),
  "container.stop": async (args, { docker, signal }) => ({
    id: args.id,
    ...(await docker.stopContainer(args.id, args.timeout, signal)),
  }),
  "container.restart": async (args, { docker, signal }) => ({
    id: args.id,
    ...(await docker.restartContainer(args.id, args.timeout, signal)),
  }),
  "container.kill": async (args, { docker, signal }) => ({
    id: args.id,
    ...(await docker.killContainer(args.id, args.signal, signal)),
  }),
  "container.pause": async (args, { docker, signal }) => ({ id: args.id, ...(await docker.pauseContainer(args.id, signal)) }),
  "container.unpause": async (args, { docker, signal }) => ({
    id: args.id,
    ...(await docker.unpauseContainer(args.id, signal)),
  }),
  "container.remove": async (args, { docker, signal }) => {
    await docker.removeContainer(args.id, { force: args.force, volumes: args.volumes }, signal);
    return { id: args.id, removed: true };
  },
  "container.top": (args, { docker, signal }) => docker.top(args.id, args.ps_args, signal),
};
