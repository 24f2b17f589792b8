// The Engine API calls a deployment needs beyond the container basics in docker/endpoints.ts:
// building from a tar stream, images, networks, renames and volume removal. Same descriptor
// style: a path, a method and what each status means; the one transport does the rest.
import { endpoint, pathSegment, type RawBody } from "../docker/endpoint.ts";
import * as api from "../docker/endpoints.ts";
import { networkCreate, networkInspect, networkRemove } from "../docker/housekeeping.ts";
import type { DockerClient, DockerJson } from "../docker/client.ts";
import { MANAGED_LABEL, splitReference } from "../docker/client.ts";
import { JsonLinesParser } from "../docker/streams.ts";
import { DeployFailedError } from "../errors.ts";
import { ownerLabel } from "../protocol.ts";

const SERVER = "server error";

export const imageBuild = endpoint<{ context: RawBody; t: string; dockerfile?: string; labels: Record<string, string> }>({
  name: "image.build",
  method: "POST",
  path: () => "/build",
  // rm/forcerm: intermediate containers go away even when a step fails.
  query: (p) => ({ t: p.t, dockerfile: p.dockerfile, labels: JSON.stringify(p.labels), rm: true, forcerm: true }),
  rawBody: (p) => ({ body: p.context, contentType: "application/x-tar" }),
  expect: { 200: true, 400: "bad parameter", 500: SERVER },
  response: "stream",
});

export const imageInspect = endpoint<{ name: string }>({
  name: "image.inspect",
  method: "GET",
  path: (p) => `/images/${pathSegment(p.name)}/json`,
  expect: { 200: true, 404: "no such image", 500: SERVER },
  response: "json",
});

export const imageTag = endpoint<{ name: string; repo: string; tag?: string }>({
  name: "image.tag",
  method: "POST",
  path: (p) => `/images/${pathSegment(p.name)}/tag`,
  query: (p) => ({ repo: p.repo, tag: p.tag }),
  expect: { 201: true, 400: "bad parameter", 404: "no such image", 409: "conflict", 500: SERVER },
  response: "empty",
});

/** Removes the network when nothing is attached to it any more; true when it is gone. */
export async function removeNetworkIfUnused(docker: DockerClient, name: string, signal: AbortSignal): Promise<boolean> {
  let network: { Containers?: Record<string, unknown> | null; Labels?: Record<string, string> | null };
  try {
    network = (await docker.transport.json(networkInspect, { id: name }, signal)) as typeof network;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return true;
    throw error;
  }
  // Only Pier's own networks, and only empty ones (Docker lists attached containers here).
  if (network.Labels?.[MANAGED_LABEL] !== "true" || Object.keys(network.Containers ?? {}).length > 0) return false;
  try {
    await docker.transport.call(networkRemove, { id: name }, signal);
    return true;
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 404) return true;
    if (status === 403 || status === 409) return false; // something attached meanwhile
    throw error;
  }
}

export const containerRename = endpoint<{ id: string; name: string }>({
  name: "container.rename",
  method: "POST",
  path: (p) => `/containers/${pathSegment(p.id)}/rename`,
  query: (p) => ({ name: p.name }),
  expect: { 204: true, 404: "no such container", 409: "name already in use", 500: SERVER },
  response: "empty",
});

export const volumeRemove = endpoint<{ name: string }>({
  name: "volume.remove",
  method: "DELETE",
  path: (p) => `/volumes/${pathSegment(p.name)}`,
  expect: { 204: true, 404: "no such volume", 409: "volume is in use", 500: SERVER },
  response: "empty",
});

/** A build or pull that Docker reported as failed inside its 200 stream. */
export class EngineStreamError extends DeployFailedError {
  override readonly name = "EngineStreamError";
}

/** Containers carrying `label=value` (all states). */
export async function containersLabelled(docker: DockerClient, label: string, value: string, signal: AbortSignal) {
  return (await docker.transport.json(api.containerList, { all: true, filters: { label: [`${label}=${value}`] } }, signal)) as Array<{
    Id: string;
    Names: string[];
    State: string;
    Labels: Record<string, string>;
  }>;
}

export async function inspectImage(docker: DockerClient, name: string, signal: AbortSignal): Promise<DockerJson | null> {
  try {
    return (await docker.transport.json(imageInspect, { name }, signal)) as DockerJson;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return null;
    throw error;
  }
}

export async function tagImage(docker: DockerClient, source: string, target: string, signal: AbortSignal): Promise<void> {
  const { name, tag } = splitReference(target);
  await docker.transport.call(imageTag, { name: source, repo: name, tag }, signal);
}

/** Creates the network (with the pier label) unless it exists. */
export async function ensureNetwork(
  docker: DockerClient,
  name: string,
  labels: Record<string, string>,
  signal: AbortSignal,
): Promise<boolean> {
  try {
    await docker.transport.json(networkInspect, { id: name }, signal);
    return false;
  } catch (error) {
    if ((error as { status?: number }).status !== 404) throw error;
  }
  try {
    await docker.transport.json(
      networkCreate,
      { body: { Name: name, Driver: "bridge", CheckDuplicate: true, Labels: { ...labels, [MANAGED_LABEL]: "true" } } },
      signal,
    );
    return true;
  } catch (error) {
    // Created by a concurrent deployment between the two calls: fine.
    if ((error as { status?: number }).status === 409) return false;
    throw error;
  }
}

/**
 * Reads a build or pull progress stream to its end, handing each line of text to `onText`.
 * Docker reports failures inside the 200 stream (`{"error": …}`), which become an
 * EngineStreamError carrying the engine's message. Returns the built image id when reported.
 */
export async function readProgress(
  body: AsyncIterable<unknown>,
  onText: (text: string) => Promise<void>,
): Promise<{ imageId: string | null }> {
  const parser = new JsonLinesParser();
  let imageId: string | null = null;
  // Pull progress repeats one line per layer many times a second ("Downloading [==> ]"): only
  // changes of status are worth showing.
  const lastStatus = new Map<string, string>();
  const handle = async (doc: unknown) => {
    const d = doc as {
      stream?: string;
      status?: string;
      id?: string;
      progress?: string;
      error?: string;
      errorDetail?: { message?: string };
      aux?: { ID?: string };
    };
    if (d.error || d.errorDetail) throw new EngineStreamError(d.errorDetail?.message ?? d.error ?? "the engine reported an error");
    if (d.aux?.ID) imageId = d.aux.ID;
    if (typeof d.stream === "string") await onText(d.stream);
    else if (typeof d.status === "string") {
      const key = d.id ?? "";
      if (lastStatus.get(key) === d.status) return;
      lastStatus.set(key, d.status);
      await onText(`${d.id ? `${d.id}: ` : ""}${d.status}\n`);
    }
  };
  for await (const piece of body) for (const doc of parser.push(piece as Uint8Array)) await handle(doc);
  for (const doc of parser.end()) await handle(doc);
  return { imageId };
}

/**
 * Refuses when a container called `name` exists on the host and is not the owner's (its
 * `dev.pier.app`/`dev.pier.database` label says another owner, or it has none): the deployment
 * would otherwise take its name over, or fail only at the switch, after a whole build.
 */
export async function refuseForeignContainer(
  docker: DockerClient,
  name: string,
  owner: { kind: "application" | "database"; id: string },
  signal: AbortSignal,
): Promise<void> {
  let labels: Record<string, string> | null | undefined;
  try {
    const doc = await docker.inspectContainer(name, signal);
    labels = (doc.Config as { Labels?: Record<string, string> | null } | undefined)?.Labels;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return;
    throw error;
  }
  if (labels?.[ownerLabel(owner.kind)] === owner.id) return;
  throw new DeployFailedError(
    `a container named ${name} already exists on this host and does not belong to this ${owner.kind}${labels?.[MANAGED_LABEL] === "true" ? "" : " (it was not created by Pier)"}: rename or remove it (docker rm -f ${name}), or choose another app name`,
  );
}
