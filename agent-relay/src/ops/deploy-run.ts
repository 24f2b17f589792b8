// `deploy.run`: starts a new container for an application (or a database) and switches to it.
//
//   start-first (the default): create `<name>-<deployment>` beside the running one, start it,
//   wait for it to be healthy, then remove the old container and rename the new one to `<name>`.
//   stop-first (fixed host ports, databases on one volume): stop the old one first; if the new
//   one fails, it is removed and the old one started again.
//
// On any failure, cancel or deadline the new container is removed and the old one keeps (or goes
// back to) serving. Once the switch has begun it runs to its end whatever the signal says, so a
// cancel can never leave the application with no container.
import { MANAGED_LABEL, type DockerClient, type DockerJson } from "../docker/client.ts";
import { DeployFailedError } from "../errors.ts";
import {
  DEPLOYMENT_LABEL,
  ownerLabel,
  PROJECT_LABEL,
  type DeployRemoveArgs,
  type DeployRemoveResult,
  type DeployRunArgs,
  type DeployRunResult,
  type HealthCheck,
} from "../protocol.ts";
import { planContainerCreate } from "./container-spec.ts";
import type { OpContext } from "./context.ts";
import {
  containerRename,
  containersLabelled,
  ensureNetwork,
  refuseForeignContainer,
  removeNetworkIfUnused,
  volumeRemove,
} from "./deploy-engine.ts";
import { setTimeout as sleep } from "node:timers/promises";

export class HealthCheckError extends DeployFailedError {
  override readonly name = "HealthCheckError";
}

const POLL_MS = 250;
const DEFAULT_MIN_UPTIME_MS = 2_000;
/** Cleanup and switch steps run on their own clock, not on the (possibly aborted) command's. */
const cleanupSignal = () => AbortSignal.timeout(60_000);

export async function deployRun(args: DeployRunArgs, ctx: OpContext): Promise<DeployRunResult> {
  const { docker, signal } = ctx;
  const say = (text: string) => ctx.output.write(`${text}\n`);
  const label = ownerLabel(args.kind);
  const suffix = (args.deployment_id ?? `r${Date.now().toString(36)}`).replace(/[^a-zA-Z0-9_.-]/g, "");
  const tempName = `${args.name}-${suffix}`;

  const existing = await containersLabelled(docker, label, args.owner_id, signal);
  // Checked before the build too (deploy.build); again here, as a container may have appeared since.
  await refuseForeignContainer(docker, args.name, { kind: args.kind, id: args.owner_id }, signal);
  // A leftover from an earlier attempt of this same deployment would block the name.
  for (const c of existing.filter((c) => c.Names.includes(`/${tempName}`))) await docker.removeContainer(c.Id, { force: true }, signal);
  const previous = existing.filter((c) => !c.Names.includes(`/${tempName}`));

  if (args.network) {
    const project = args.labels?.[PROJECT_LABEL];
    if (await ensureNetwork(docker, args.network.name, project ? { [PROJECT_LABEL]: project } : {}, signal))
      await say(`==> Created network ${args.network.name}`);
  }
  const plan = planContainerCreate({
    image: args.image,
    cmd: args.cmd,
    env: args.env,
    ports: args.ports,
    volumes: args.volumes,
    labels: {
      ...args.labels,
      [MANAGED_LABEL]: "true",
      [label]: args.owner_id,
      ...(args.deployment_id ? { [DEPLOYMENT_LABEL]: args.deployment_id } : {}),
    },
    restart_policy: args.restart_policy,
    cpus: args.cpus,
    memory: args.memory,
    network: args.network?.name,
  });
  const body: DockerJson = { ...plan.body };
  if (args.network?.aliases?.length)
    body.NetworkingConfig = { EndpointsConfig: { [args.network.name]: { Aliases: args.network.aliases } } };
  if (args.health_check?.command) body.Healthcheck = dockerHealthcheck(args.health_check);
  for (const volume of plan.namedVolumes) await docker.createVolume(volume, signal);

  await say(`==> Creating container ${tempName} from ${args.image}`);
  const created = await docker.createContainer(tempName, body, signal);
  const stopped: string[] = [];
  try {
    if (args.strategy === "stop-first") {
      for (const old of previous.filter((c) => c.State === "running" || c.State === "restarting")) {
        await say(
          `==> Stopping the previous container ${name(old)} first (${args.kind === "database" ? "one container per volume" : "its host ports are needed"})`,
        );
        await docker.stopContainer(old.Id, 10, signal);
        stopped.push(old.Id);
      }
    }
    await docker.startContainer(created.id, signal);
    await say(`==> Started ${tempName} (${created.id.slice(0, 12)}); waiting for it to be healthy`);
    await waitHealthy(docker, created.id, args.health_check, args.min_uptime_ms ?? DEFAULT_MIN_UPTIME_MS, signal, say);
  } catch (error) {
    await say(`==> The new container failed: ${error instanceof Error ? error.message : String(error)}`);
    await showLogs(docker, created.id, say);
    await docker.removeContainer(created.id, { force: true }, cleanupSignal()).catch(() => undefined);
    for (const id of stopped) {
      await say(`==> Starting the previous container ${id.slice(0, 12)} again`);
      await docker.startContainer(id, cleanupSignal()).catch(() => undefined);
    }
    if (previous.length > 0) await say("==> The previous version keeps serving");
    throw error;
  }

  // The switch: from here on the new container is the application, so this finishes even if
  // the deployment is cancelled meanwhile.
  const switchSignal = cleanupSignal();
  for (const old of previous) {
    await say(`==> Removing the previous container ${name(old)} (${old.Id.slice(0, 12)})`);
    await docker.removeContainer(old.Id, { force: true }, switchSignal).catch((error: unknown) => {
      if ((error as { status?: number }).status !== 404) throw error;
    });
  }
  await docker.transport.call(containerRename, { id: created.id, name: args.name }, switchSignal);
  await say(`==> ${args.name} is now ${created.id.slice(0, 12)} (${args.image})`);
  return { container_id: created.id, container_name: args.name, replaced: previous.map((c) => c.Id) };
}

export async function deployRemove(args: DeployRemoveArgs, { docker, signal }: OpContext): Promise<DeployRemoveResult> {
  const containers = await containersLabelled(docker, ownerLabel(args.kind), args.owner_id, signal);
  for (const c of containers) {
    await docker.removeContainer(c.Id, { force: true }, signal).catch((error: unknown) => {
      if ((error as { status?: number }).status !== 404) throw error;
    });
  }
  const volumes: string[] = [];
  for (const volume of args.volumes ?? []) {
    try {
      await docker.transport.call(volumeRemove, { name: volume }, signal);
      volumes.push(volume);
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw error;
    }
  }
  const networkRemoved = args.network ? await removeNetworkIfUnused(docker, args.network, signal) : false;
  const result: DeployRemoveResult = { containers: containers.map((c) => c.Id), volumes, network_removed: networkRemoved };
  if (args.kind === "application" && args.images && args.app_name) {
    const { removeAppImages } = await import("./deploy-images.ts");
    const images = await removeAppImages(docker, { id: args.owner_id, name: args.app_name }, new Set(), signal);
    result.images = images.removed;
  }
  if (args.kind === "application" && args.clone) {
    const { removeClone } = await import("./deploy-images.ts");
    result.clone_removed = await removeClone(args.owner_id);
  }
  return result;
}

const name = (c: { Names: string[] }) => (c.Names[0] ?? "").replace(/^\//, "");

function dockerHealthcheck(hc: HealthCheck) {
  const ns = (seconds: number) => seconds * 1e9;
  return {
    Test: ["CMD-SHELL", hc.command],
    Interval: ns(hc.interval_seconds ?? 2),
    Timeout: ns(hc.timeout_seconds ?? 5),
    Retries: hc.retries ?? 10,
    StartPeriod: ns(hc.start_period_seconds ?? 0),
  };
}

interface ContainerState {
  Running?: boolean;
  Restarting?: boolean;
  Status?: string;
  ExitCode?: number;
  Error?: string;
  Health?: { Status?: string; Log?: Array<{ ExitCode?: number; Output?: string }> };
}

async function state(docker: DockerClient, id: string, signal: AbortSignal): Promise<{ state: ContainerState; restarts: number }> {
  const doc = await docker.inspectContainer(id, signal);
  return { state: (doc.State ?? {}) as ContainerState, restarts: Number(doc.RestartCount ?? 0) };
}

function notRunning(s: ContainerState, restarts: number): string | null {
  if (restarts > 0 || s.Restarting) return `the container keeps restarting (exit code ${s.ExitCode ?? "?"})`;
  if (!s.Running) return `the container exited (exit code ${s.ExitCode ?? "?"}${s.Error ? `: ${s.Error}` : ""})`;
  return null;
}

/**
 * Healthy means: Docker's own health check says so (the application's, or the image's
 * HEALTHCHECK); or, without one, the container stays up for `minUptimeMs`. Then, if an HTTP path
 * is configured, a request to it from inside the container must succeed.
 */
async function waitHealthy(
  docker: DockerClient,
  id: string,
  hc: HealthCheck | undefined,
  minUptimeMs: number,
  signal: AbortSignal,
  say: (t: string) => Promise<void>,
): Promise<void> {
  const first = await state(docker, id, signal);
  if (first.state.Health) {
    await say(`==> Waiting for Docker's health check${hc?.command ? ` (${hc.command})` : " (the image's HEALTHCHECK)"}`);
    for (;;) {
      const { state: s, restarts } = await state(docker, id, signal);
      const down = notRunning(s, restarts);
      if (down) throw new HealthCheckError(`health check failed: ${down}`);
      if (s.Health?.Status === "healthy") break;
      if (s.Health?.Status === "unhealthy") {
        const last = s.Health.Log?.at(-1);
        throw new HealthCheckError(
          `health check failed: Docker reports the container unhealthy${last ? ` (exit code ${last.ExitCode}: ${(last.Output ?? "").trim().slice(0, 500)})` : ""}`,
        );
      }
      await sleep(POLL_MS, undefined, { signal });
    }
  } else {
    const until = Date.now() + minUptimeMs;
    for (;;) {
      const { state: s, restarts } = await state(docker, id, signal);
      const down = notRunning(s, restarts);
      if (down) throw new HealthCheckError(`health check failed: ${down}`);
      if (Date.now() >= until) break;
      await sleep(Math.min(POLL_MS, until - Date.now()), undefined, { signal });
    }
  }
  if (hc?.http_path) await probeHttp(docker, id, hc, signal, say);
  await say("==> Healthy");
}

/** GET http://127.0.0.1:<port><path> from inside the container (wget, else curl), until it answers 2xx/3xx. */
async function probeHttp(
  docker: DockerClient,
  id: string,
  hc: HealthCheck,
  signal: AbortSignal,
  say: (t: string) => Promise<void>,
): Promise<void> {
  const url = `http://127.0.0.1:${hc.port ?? 80}${hc.http_path}`;
  const timeout = hc.timeout_seconds ?? 5;
  const retries = hc.retries ?? 10;
  const interval = (hc.interval_seconds ?? 2) * 1000;
  // No `wget -T`: some static busybox builds crash on it. The exec itself is bounded instead.
  const clients = [
    ["wget", "-q", "-O", "/dev/null", url],
    ["curl", "-fsS", "-o", "/dev/null", "-m", String(timeout), url],
  ];
  await say(`==> Probing ${url} from inside the container (up to ${retries} tries)`);
  let detail = "";
  for (let attempt = 1; attempt <= retries; attempt++) {
    const { state: s, restarts } = await state(docker, id, signal);
    const down = notRunning(s, restarts);
    if (down) throw new HealthCheckError(`health check failed: ${down}`);
    let missing = 0;
    for (const cmd of clients) {
      const bounded = AbortSignal.any([signal, AbortSignal.timeout(timeout * 1000)]);
      const result = await docker.exec(id, { cmd, maxChars: 2000 }, bounded).catch((error: unknown) => {
        if (signal.aborted) throw error;
        return { exitCode: -1, stdout: "", stderr: `no answer within ${timeout} s`, truncated: false };
      });
      if (result.exitCode === 0) return;
      const output = `${result.stdout}${result.stderr}`.trim();
      // 126/127 or the runtime's "executable file not found": this client is not in the image.
      if (result.exitCode === 126 || result.exitCode === 127 || /executable file not found/i.test(output)) {
        missing++;
        continue;
      }
      detail = `${cmd[0]} exited ${result.exitCode}${output ? `: ${output.slice(0, 300)}` : ""}`;
      break;
    }
    if (missing === clients.length) {
      throw new HealthCheckError(
        `health check failed: neither wget nor curl is in the image to probe ${hc.http_path}; use a health check command instead`,
      );
    }
    if (attempt < retries) await sleep(interval, undefined, { signal });
  }
  throw new HealthCheckError(`health check failed: ${url} did not answer successfully after ${retries} tries (${detail})`);
}

async function showLogs(docker: DockerClient, id: string, say: (t: string) => Promise<void>): Promise<void> {
  try {
    let text = "";
    for await (const piece of docker.logs(id, { stdout: true, stderr: true, tail: 30 }, AbortSignal.timeout(5_000))) text += piece.text;
    const lines = text.trimEnd().split("\n").filter(Boolean);
    if (lines.length === 0) return;
    await say("==> Last lines of the new container's output:");
    for (const line of lines) await say(`  | ${line}`);
  } catch {
    // the container may never have started
  }
}
