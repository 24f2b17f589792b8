import { endpoint, pathSegment } from "./endpoint.ts";

// The Engine API calls behind the interactive terminal (v1.41): an exec with a TTY, an attach,
// their resizes, and a stat of a path to pick a shell.

const c = (id: string) => `/containers/${pathSegment(id)}`;
const NO_CONTAINER = "no such container";
const SERVER = "server error";

export const execCreateTty = endpoint<{ id: string; cmd: string[]; user?: string; workdir?: string; marker: string }>({
  name: "exec.create",
  method: "POST",
  path: (p) => `${c(p.id)}/exec`,
  body: (p) => ({
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: true,
    Cmd: p.cmd,
    // Full-screen programs (vi, top) need to know what they draw on; the client is xterm-like.
    // The marker names the terminal's processes (children inherit it), so they can be found and
    // ended from inside the container (see Terminals#killExec).
    Env: ["TERM=xterm-256color", p.marker],
    User: p.user,
    WorkingDir: p.workdir,
  }),
  expect: { 201: true, 404: NO_CONTAINER, 409: "container is paused or not running", 500: SERVER },
  response: "json",
});

/** Hijacked (see DockerTransport.upgrade): with a TTY the stream is raw bytes, not multiplexed. */
export const execStartTty = endpoint<{ execId: string }>({
  name: "exec.start",
  method: "POST",
  path: (p) => `/exec/${pathSegment(p.execId)}/start`,
  body: () => ({ Detach: false, Tty: true }),
  expect: { 101: true, 200: true, 404: "no such exec instance", 409: "container is paused or stopped", 500: SERVER },
  response: "stream",
});

export const execResize = endpoint<{ execId: string; cols: number; rows: number }>({
  name: "exec.resize",
  method: "POST",
  path: (p) => `/exec/${pathSegment(p.execId)}/resize`,
  query: (p) => ({ h: p.rows, w: p.cols }),
  expect: { 200: true, 201: true, 400: "bad parameter", 404: "no such exec instance", 409: "exec is not running", 500: SERVER },
  response: "empty",
});

export const execInspectState = endpoint<{ execId: string }>({
  name: "exec.inspect",
  method: "GET",
  path: (p) => `/exec/${pathSegment(p.execId)}/json`,
  expect: { 200: true, 404: "no such exec instance", 500: SERVER },
  response: "json",
});

/** Hijacked; `logs=0`: only what the container writes from now on. */
export const containerAttach = endpoint<{ id: string }>({
  name: "container.attach",
  method: "POST",
  path: (p) => `${c(p.id)}/attach`,
  query: () => ({ stream: true, stdin: true, stdout: true, stderr: true, logs: false }),
  expect: { 101: true, 200: true, 400: "bad parameter", 404: NO_CONTAINER, 500: SERVER },
  response: "stream",
});

export const containerResize = endpoint<{ id: string; cols: number; rows: number }>({
  name: "container.resize",
  method: "POST",
  path: (p) => `${c(p.id)}/resize`,
  query: (p) => ({ h: p.rows, w: p.cols }),
  expect: { 200: true, 404: NO_CONTAINER, 500: SERVER },
  response: "empty",
});

/** `HEAD …/archive?path=` stats a path in the container (as `docker cp` does): 200 or 404. */
export const containerPathStat = endpoint<{ id: string; path: string }>({
  name: "container.path-stat",
  method: "HEAD",
  path: (p) => `${c(p.id)}/archive`,
  query: (p) => ({ path: p.path }),
  expect: { 200: true, 404: { noop: "no such path" }, 400: "bad parameter", 500: SERVER },
  response: "empty",
});
