import { buildQuery, endpoint, pathSegment } from "./endpoint.ts";

// Image and container-administration endpoints of the Engine API (v1.41) beyond list/pull/remove:
// https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Image

const SERVER = "server error";
const NO_IMAGE = "no such image";
const i = (name: string) => `/images/${pathSegment(name)}`;
const c = (id: string) => `/containers/${pathSegment(id)}`;
/** A key the engine reads as a list (`names`, `changes`): the query builder holds one value per key. */
const repeated = (key: string, values: string[]) => values.map((value) => `${key}=${encodeURIComponent(value)}`).join("&");

export const imageInspect = endpoint<{ name: string }>({
  name: "image.inspect",
  method: "GET",
  path: (p) => `${i(p.name)}/json`,
  expect: { 200: true, 404: NO_IMAGE, 500: SERVER },
  response: "json",
});

export const imageHistory = endpoint<{ name: string }>({
  name: "image.history",
  method: "GET",
  path: (p) => `${i(p.name)}/history`,
  expect: { 200: true, 404: NO_IMAGE, 500: SERVER },
  response: "json",
});

export const imageTag = endpoint<{ name: string; repo: string; tag?: string }>({
  name: "image.tag",
  method: "POST",
  path: (p) => `${i(p.name)}/tag`,
  query: (p) => ({ repo: p.repo, tag: p.tag }),
  expect: { 201: true, 400: "bad parameter", 404: NO_IMAGE, 409: "conflict", 500: SERVER },
  response: "empty",
});

// A push reports a refused login or a missing layer inside its 200 stream, as a pull does.
export const imagePush = endpoint<{ name: string; tag?: string; registryAuth: string }>({
  name: "image.push",
  method: "POST",
  path: (p) => `${i(p.name)}/push`,
  query: (p) => ({ tag: p.tag }),
  // The engine refuses a push without the header at all, even to a registry that needs no login.
  headers: (p) => ({ "x-registry-auth": p.registryAuth }),
  expect: { 200: true, 404: NO_IMAGE, 500: SERVER },
  response: "stream",
});

export const imageSave = endpoint<{ names: string[] }>({
  name: "image.save",
  method: "GET",
  path: (p) => `/images/get?${repeated("names", p.names)}`,
  expect: { 200: true, 404: NO_IMAGE, 500: SERVER },
  response: "stream",
});

export const containerUpdate = endpoint<{ id: string; body: Record<string, unknown> }>({
  name: "container.update",
  method: "POST",
  path: (p) => `${c(p.id)}/update`,
  body: (p) => p.body,
  expect: { 200: true, 400: "bad parameter", 404: "no such container", 500: SERVER },
  response: "json",
});

export const containerCommit = endpoint<{
  container: string;
  repo: string;
  tag?: string;
  comment?: string;
  author?: string;
  pause?: boolean;
  changes?: string[];
}>({
  name: "container.commit",
  method: "POST",
  // `changes` repeats, which the query builder cannot say: the whole query is built here.
  path: (p) => {
    const query = buildQuery({ container: p.container, repo: p.repo, tag: p.tag, comment: p.comment, author: p.author, pause: p.pause });
    return `/commit${query}${p.changes?.length ? `&${repeated("changes", p.changes)}` : ""}`;
  },
  // An empty config: the container's own, changed only by `changes`.
  body: () => ({}),
  expect: { 201: true, 400: "bad parameter", 404: "no such container", 500: SERVER },
  response: "json",
});

export const containerRename = endpoint<{ id: string; name: string }>({
  name: "container.rename",
  method: "POST",
  path: (p) => `${c(p.id)}/rename`,
  query: (p) => ({ name: p.name }),
  expect: { 204: true, 404: "no such container", 409: "name already in use", 500: SERVER },
  response: "empty",
});

// The engine logs in to the registry's /v2/ (token flows, insecure-registry rules and proxies as
// `docker login` has them) and answers; nothing is stored on the host.
export const registryAuth = endpoint<{ body: { username: string; password: string; serveraddress: string } }>({
  name: "registry.login",
  method: "POST",
  path: () => "/auth",
  body: (p) => p.body,
  expect: { 200: true, 204: true, 500: SERVER },
  response: "json",
});
