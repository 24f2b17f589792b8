import type { Readable } from "node:stream";
import { endpoint, pathSegment } from "./endpoint.ts";

// Bytes in and out of the engine (v1.41): `docker save` / `docker load`, and a container's files
// through the archive endpoint (`docker cp`).
// https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Container/operation/ContainerArchive

const SERVER = "server error";
const c = (id: string) => `/containers/${pathSegment(id)}`;

/** `quiet`: the engine answers with a few JSON lines ("Loaded image: …"), not a progress bar per layer. */
export const imageLoad = endpoint<{ body: Readable }>({
  name: "image.load",
  method: "POST",
  path: () => "/images/load",
  query: () => ({ quiet: true }),
  rawBody: (p) => ({ body: p.body, contentType: "application/x-tar" }),
  expect: { 200: true, 400: "bad parameter", 500: SERVER },
  response: "stream",
});

/** The path's stat rides in `X-Docker-Container-Path-Stat` (base64 JSON), the tar in the body. */
export const containerArchiveGet = endpoint<{ id: string; path: string }>({
  name: "container.archive",
  method: "GET",
  path: (p) => `${c(p.id)}/archive`,
  query: (p) => ({ path: p.path }),
  expect: { 200: true, 400: "bad parameter", 404: "no such container or path", 500: SERVER },
  response: "stream",
});

export const containerArchiveHead = endpoint<{ id: string; path: string }>({
  name: "container.archive-stat",
  method: "HEAD",
  path: (p) => `${c(p.id)}/archive`,
  query: (p) => ({ path: p.path }),
  expect: { 200: true, 400: "bad parameter", 404: "no such container or path", 500: SERVER },
  response: "empty",
});

export const containerArchivePut = endpoint<{
  id: string;
  path: string;
  body: Readable;
  noOverwriteDirNonDir?: boolean;
  copyUidGid?: boolean;
}>({
  name: "container.archive-put",
  method: "PUT",
  path: (p) => `${c(p.id)}/archive`,
  query: (p) => ({ path: p.path, noOverwriteDirNonDir: p.noOverwriteDirNonDir, copyUIDGID: p.copyUidGid }),
  rawBody: (p) => ({ body: p.body, contentType: "application/x-tar" }),
  expect: {
    200: true,
    400: "bad parameter",
    403: "the container's root filesystem is read-only",
    404: "no such container or path",
    500: SERVER,
  },
  response: "empty",
});
