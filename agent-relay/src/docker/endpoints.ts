import { endpoint, pathSegment } from "./endpoint.ts";

// Status meanings follow the Engine API reference for v1.41:
// https://docs.docker.com/reference/api/engine/version/v1.41/

type Id = { id: string };
const c = (id: string) => `/containers/${pathSegment(id)}`;

const BAD = "bad parameter";
const NO_CONTAINER = "no such container";
const SERVER = "server error";

export const version = endpoint({
  name: "system.version",
  method: "GET",
  path: () => "/version",
  expect: { 200: true, 500: SERVER },
  response: "json",
  unversioned: true,
});

export const info = endpoint({
  name: "system.info",
  method: "GET",
  path: () => "/info",
  expect: { 200: true, 500: SERVER },
  response: "json",
});

export const ping = endpoint({
  name: "system.ping",
  method: "GET",
  path: () => "/_ping",
  expect: { 200: true, 500: SERVER },
  response: "empty",
  unversioned: true,
});

export const containerList = endpoint<{ all?: boolean; filters?: Record<string, string[]> }>({
  name: "container.list",
  method: "GET",
  path: () => "/containers/json",
  query: (p) => ({ all: p.all, filters: p.filters && JSON.stringify(p.filters) }),
  expect: { 200: true, 400: BAD, 500: SERVER },
  response: "json",
});

export const containerCreate = endpoint<{ name?: string; body: Record<string, unknown> }>({
  name: "container.create",
  method: "POST",
  path: () => "/containers/create",
  query: (p) => ({ name: p.name }),
  body: (p) => p.body,
  expect: { 201: true, 400: BAD, 404: "no such image", 409: "container name already in use", 500: SERVER },
  response: "json",
});

export const containerInspect = endpoint<Id>({
  name: "container.inspect",
  method: "GET",
  path: (p) => `${c(p.id)}/json`,
  expect: { 200: true, 404: NO_CONTAINER, 500: SERVER },
  response: "json",
});

export const containerTop = endpoint<Id & { ps_args?: string }>({
  name: "container.top",
  method: "GET",
  path: (p) => `${c(p.id)}/top`,
  query: (p) => ({ ps_args: p.ps_args }),
  expect: { 200: true, 404: NO_CONTAINER, 409: "container is not running", 500: SERVER },
  response: "json",
});

export interface LogsQuery {
  follow?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  since?: number;
  timestamps?: boolean;
  tail?: number | "all";
}

export const containerLogs = endpoint<Id & LogsQuery>({
  name: "container.logs",
  method: "GET",
  path: (p) => `${c(p.id)}/logs`,
  query: ({ id: _, ...q }) => ({ ...q }),
  expect: { 200: true, 404: NO_CONTAINER, 500: SERVER },
  response: "stream",
});

export const containerStats = endpoint<Id & { stream: boolean }>({
  name: "container.stats",
  method: "GET",
  path: (p) => `${c(p.id)}/stats`,
  query: (p) => ({ stream: p.stream }),
  expect: { 200: true, 404: NO_CONTAINER, 500: SERVER },
  response: "stream",
});

export const containerStart = endpoint<Id>({
  name: "container.start",
  method: "POST",
  path: (p) => `${c(p.id)}/start`,
  expect: { 204: true, 304: { noop: "container already started" }, 404: NO_CONTAINER, 500: SERVER },
  response: "empty",
});

export const containerStop = endpoint<Id & { t?: number }>({
  name: "container.stop",
  method: "POST",
  path: (p) => `${c(p.id)}/stop`,
  query: (p) => ({ t: p.t }),
  expect: { 204: true, 304: { noop: "container already stopped" }, 404: NO_CONTAINER, 500: SERVER },
  response: "empty",
});

export const containerRestart = endpoint<Id & { t?: number }>({
  name: "container.restart",
  method: "POST",
  path: (p) => `${c(p.id)}/restart`,
  query: (p) => ({ t: p.t }),
  expect: { 204: true, 404: NO_CONTAINER, 500: SERVER },
  response: "empty",
});

export const containerKill = endpoint<Id & { signal?: string }>({
  name: "container.kill",
  method: "POST",
  path: (p) => `${c(p.id)}/kill`,
  query: (p) => ({ signal: p.signal }),
  expect: { 204: true, 404: NO_CONTAINER, 409: "container is not running", 500: SERVER },
  response: "empty",
});

export const containerPause = endpoint<Id>({
  name: "container.pause",
  method: "POST",
  path: (p) => `${c(p.id)}/pause`,
  expect: { 204: true, 404: NO_CONTAINER, 409: "container is not running or already paused", 500: SERVER },
  response: "empty",
});

export const containerUnpause = endpoint<Id>({
  name: "container.unpause",
  method: "POST",
  path: (p) => `${c(p.id)}/unpause`,
  expect: { 204: true, 404: NO_CONTAINER, 409: "container is not paused", 500: SERVER },
  response: "empty",
});

export const containerRemove = endpoint<Id & { force?: boolean; v?: boolean }>({
  name: "container.remove",
  method: "DELETE",
  path: (p) => c(p.id),
  query: (p) => ({ force: p.force, v: p.v }),
  expect: { 204: true, 400: BAD, 404: NO_CONTAINER, 409: "conflict", 500: SERVER },
  response: "empty",
});

export const execCreate = endpoint<Id & { body: Record<string, unknown> }>({
  name: "exec.create",
  method: "POST",
  path: (p) => `${c(p.id)}/exec`,
  body: (p) => p.body,
  expect: { 201: true, 404: NO_CONTAINER, 409: "container is paused or not running", 500: SERVER },
  response: "json",
});

// Without an Upgrade header Docker answers 200 and writes the raw (multiplexed) output until the
// process exits, then closes the connection: a plain streamed body for undici.
export const execStart = endpoint<{ execId: string }>({
  name: "exec.start",
  method: "POST",
  path: (p) => `/exec/${pathSegment(p.execId)}/start`,
  body: () => ({ Detach: false, Tty: false }),
  expect: { 200: true, 404: "no such exec instance", 409: "container is paused or stopped", 500: SERVER },
  response: "stream",
});

export const execInspect = endpoint<{ execId: string }>({
  name: "exec.inspect",
  method: "GET",
  path: (p) => `/exec/${pathSegment(p.execId)}/json`,
  expect: { 200: true, 404: "no such exec instance", 500: SERVER },
  response: "json",
});

export const imageList = endpoint<{ all?: boolean; filters?: Record<string, string[]> }>({
  name: "image.list",
  method: "GET",
  path: () => "/images/json",
  query: (p) => ({ all: p.all, filters: p.filters && JSON.stringify(p.filters) }),
  expect: { 200: true, 500: SERVER },
  response: "json",
});

export const imagePull = endpoint<{ fromImage: string; tag?: string; platform?: string; registryAuth?: string }>({
  name: "image.pull",
  method: "POST",
  path: () => "/images/create",
  query: (p) => ({ fromImage: p.fromImage, tag: p.tag, platform: p.platform }),
  headers: (p): Record<string, string> => (p.registryAuth ? { "x-registry-auth": p.registryAuth } : {}),
  expect: { 200: true, 404: "repository does not exist or no read access", 500: SERVER },
  response: "stream",
});

export const imageRemove = endpoint<{ name: string; force?: boolean; noprune?: boolean }>({
  name: "image.remove",
  method: "DELETE",
  path: (p) => `/images/${pathSegment(p.name)}`,
  query: (p) => ({ force: p.force, noprune: p.noprune }),
  expect: { 200: true, 404: "no such image", 409: "image is in use", 500: SERVER },
  response: "json",
});

export const volumeCreate = endpoint<{ body: Record<string, unknown> }>({
  name: "volume.create",
  method: "POST",
  path: () => "/volumes/create",
  body: (p) => p.body,
  expect: { 201: true, 500: SERVER },
  response: "json",
});

export const events = endpoint<{ since?: string; filters?: Record<string, string[]> }>({
  name: "system.events",
  method: "GET",
  path: () => "/events",
  query: (p) => ({ since: p.since, filters: p.filters && JSON.stringify(p.filters) }),
  expect: { 200: true, 400: BAD, 500: SERVER },
  response: "stream",
});
