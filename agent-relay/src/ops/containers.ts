import type { OpHandlers, OpContext } from "./context.ts";
import type { OpArgs } from "../protocol.ts";
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

/**
 * "Run" is create-then-start; when the start fails (a port already taken, say) the new container
 * is removed again, so the caller is not left with a half-made one to clean up.
 */
async function createContainer(args: OpArgs<"container.create">, { docker, signal }: OpContext) {
  const plan = planContainerCreate(args);
  for (const volume of plan.namedVolumes) await docker.createVolume(volume, signal);
  const created = await docker.createContainer(plan.name, plan.body, signal);
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
