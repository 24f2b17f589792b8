// Changes to an existing container: `docker update` (limits and restart policy, live), `docker
// commit`, `docker rename`. References were checked by the protocol's schemas.
import { splitReference } from "../docker/client.ts";
import * as api from "../docker/image-admin.ts";
import type { OpArgs } from "../protocol.ts";
import type { OpHandlers } from "./context.ts";

type ContainerAdminOps = "container.update" | "container.commit" | "container.rename";

/** The update's arguments as the engine's body; fields left out stay as they are. */
export function updateBody(args: OpArgs<"container.update">, current?: { MemorySwap?: number }): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (args.memory !== undefined) body.Memory = args.memory;
  if (args.memory_swap !== undefined) body.MemorySwap = args.memory_swap;
  else if (args.memory !== undefined && current?.MemorySwap !== undefined && current.MemorySwap > 0 && current.MemorySwap < args.memory) {
    // A container started with -m has swap capped at twice its memory, and the engine refuses a
    // memory limit above that cap ("update the memoryswap at the same time"): keep the ratio
    // `docker run -m` would have given.
    body.MemorySwap = args.memory * 2;
  }
  if (args.memory_reservation !== undefined) body.MemoryReservation = args.memory_reservation;
  if (args.cpu_shares !== undefined) body.CpuShares = args.cpu_shares;
  if (args.cpu_quota !== undefined) body.CpuQuota = args.cpu_quota;
  if (args.cpu_period !== undefined) body.CpuPeriod = args.cpu_period;
  if (args.cpus !== undefined) body.NanoCpus = Math.round(args.cpus * 1e9);
  if (args.cpuset_cpus !== undefined) body.CpusetCpus = args.cpuset_cpus;
  if (args.pids_limit !== undefined) body.PidsLimit = args.pids_limit;
  if (args.restart_policy !== undefined) {
    body.RestartPolicy = {
      Name: args.restart_policy === "no" ? "" : args.restart_policy,
      ...(args.restart_max_retries !== undefined ? { MaximumRetryCount: args.restart_max_retries } : {}),
    };
  }
  return body;
}

export const containerAdminOps: Pick<OpHandlers, ContainerAdminOps> = {
  "container.update": async (args, { docker, signal }) => {
    let current: { MemorySwap?: number } | undefined;
    if (args.memory !== undefined && args.memory_swap === undefined) {
      const doc = (await docker.inspectContainer(args.id, signal)) as { HostConfig?: { MemorySwap?: number } };
      current = doc.HostConfig;
    }
    const reply = (await docker.transport.json(api.containerUpdate, { id: args.id, body: updateBody(args, current) }, signal)) as {
      Warnings?: string[] | null;
    };
    return { id: args.id, warnings: reply?.Warnings ?? [] };
  },

  "container.commit": async (args, { docker, signal }) => {
    const { name, tag } = splitReference(args.image);
    const reply = (await docker.transport.json(
      api.containerCommit,
      { container: args.id, repo: name, tag, comment: args.comment, author: args.author, pause: args.pause, changes: args.changes },
      signal,
    )) as { Id: string };
    return { id: reply.Id, image: `${name}:${tag ?? "latest"}` };
  },

  "container.rename": async (args, { docker, signal }) => {
    const name = args.name.replace(/^\//, "");
    await docker.transport.call(api.containerRename, { id: args.id, name }, signal);
    return { id: args.id, name };
  },
};
