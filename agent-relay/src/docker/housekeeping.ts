import { endpoint, pathSegment } from "./endpoint.ts";

// Volume, network and housekeeping (disk usage, prune) endpoints of the Engine API (v1.41).
// https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Volume

type Filters = Record<string, string[]>;
const filtersQuery = (filters: Filters | undefined) => (filters && Object.keys(filters).length > 0 ? JSON.stringify(filters) : undefined);

const SERVER = "server error";
/** Docker before 23.0 runs one disk usage and one prune of each kind at a time, and refuses the rest. */
const DF_BUSY = /a disk usage operation is already running/i;
const PRUNE_BUSY = /a prune operation is already running/i;
const NO_VOLUME = "no such volume";
const v = (name: string) => `/volumes/${pathSegment(name)}`;

export const volumeList = endpoint<{ filters?: Filters }>({
  name: "volume.list",
  method: "GET",
  path: () => "/volumes",
  query: (p) => ({ filters: filtersQuery(p.filters) }),
  expect: { 200: true, 400: "bad filter", 500: SERVER },
  response: "json",
});

export const volumeInspect = endpoint<{ name: string }>({
  name: "volume.inspect",
  method: "GET",
  path: (p) => v(p.name),
  expect: { 200: true, 404: NO_VOLUME, 500: SERVER },
  response: "json",
});

export const volumeRemove = endpoint<{ name: string; force?: boolean }>({
  name: "volume.remove",
  method: "DELETE",
  path: (p) => v(p.name),
  query: (p) => ({ force: p.force }),
  expect: { 204: true, 404: NO_VOLUME, 409: "volume is in use", 500: SERVER },
  response: "empty",
});

export const volumePrune = endpoint<{ filters?: Filters }>({
  name: "volume.prune",
  method: "POST",
  path: () => "/volumes/prune",
  query: (p) => ({ filters: filtersQuery(p.filters) }),
  expect: { 200: true, 400: "bad filter", 409: "a prune is already running", 500: SERVER },
  response: "json",
  busy: PRUNE_BUSY,
});

// ---- networks ----

const NO_NETWORK = "no such network";
const n = (id: string) => `/networks/${pathSegment(id)}`;

export const networkList = endpoint<{ filters?: Filters }>({
  name: "network.list",
  method: "GET",
  path: () => "/networks",
  query: (p) => ({ filters: filtersQuery(p.filters) }),
  expect: { 200: true, 400: "bad filter", 500: SERVER },
  response: "json",
});

export const networkInspect = endpoint<{ id: string; verbose?: boolean }>({
  name: "network.inspect",
  method: "GET",
  path: (p) => n(p.id),
  query: (p) => ({ verbose: p.verbose }),
  expect: { 200: true, 404: NO_NETWORK, 500: SERVER },
  response: "json",
});

export const networkCreate = endpoint<{ body: Record<string, unknown> }>({
  name: "network.create",
  method: "POST",
  path: () => "/networks/create",
  body: (p) => p.body,
  // 403: "operation not supported for pre-defined networks"; 409: the name is taken.
  expect: {
    201: true,
    400: "bad parameter",
    403: "operation not supported",
    404: "plugin not found",
    409: "network name in use",
    500: SERVER,
  },
  response: "json",
});

// Docker answers 403 for a network that still has endpoints and for its own bridge/host/none.
export const networkRemove = endpoint<{ id: string }>({
  name: "network.remove",
  method: "DELETE",
  path: (p) => n(p.id),
  expect: { 204: true, 403: "network in use or pre-defined", 404: NO_NETWORK, 409: "network in use", 500: SERVER },
  response: "empty",
});

export const networkConnect = endpoint<{ id: string; body: Record<string, unknown> }>({
  name: "network.connect",
  method: "POST",
  path: (p) => `${n(p.id)}/connect`,
  body: (p) => p.body,
  expect: { 200: true, 400: "bad parameter", 403: "not supported for this network", 404: "network or container not found", 500: SERVER },
  response: "empty",
});

export const networkDisconnect = endpoint<{ id: string; body: Record<string, unknown> }>({
  name: "network.disconnect",
  method: "POST",
  path: (p) => `${n(p.id)}/disconnect`,
  body: (p) => p.body,
  expect: { 200: true, 403: "not supported for this network", 404: "network or container not found", 500: SERVER },
  response: "empty",
});

export const networkPrune = endpoint<{ filters?: Filters }>({
  name: "network.prune",
  method: "POST",
  path: () => "/networks/prune",
  query: (p) => ({ filters: filtersQuery(p.filters) }),
  expect: { 200: true, 400: "bad filter", 409: "a prune is already running", 500: SERVER },
  response: "json",
  busy: PRUNE_BUSY,
});

// ---- system: disk usage and the prunes `docker system prune` runs ----

export const systemDf = endpoint({
  name: "system.df",
  method: "GET",
  path: () => "/system/df",
  expect: { 200: true, 500: SERVER },
  response: "json",
  busy: DF_BUSY,
});

export const containerPrune = endpoint<{ filters?: Filters }>({
  name: "container.prune",
  method: "POST",
  path: () => "/containers/prune",
  query: (p) => ({ filters: filtersQuery(p.filters) }),
  expect: { 200: true, 400: "bad filter", 409: "a prune is already running", 500: SERVER },
  response: "json",
  busy: PRUNE_BUSY,
});

export const imagePrune = endpoint<{ filters?: Filters }>({
  name: "image.prune",
  method: "POST",
  path: () => "/images/prune",
  query: (p) => ({ filters: filtersQuery(p.filters) }),
  expect: { 200: true, 400: "bad filter", 409: "a prune is already running", 500: SERVER },
  response: "json",
  busy: PRUNE_BUSY,
});

export const buildPrune = endpoint<{ all?: boolean; filters?: Filters }>({
  name: "build.prune",
  method: "POST",
  path: () => "/build/prune",
  query: (p) => ({ all: p.all, filters: filtersQuery(p.filters) }),
  expect: { 200: true, 400: "bad filter", 500: SERVER },
  response: "json",
});
