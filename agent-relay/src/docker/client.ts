import type { Dispatcher } from "undici";
import { MANAGED_LABEL_KEY } from "../protocol/servers.ts";
import * as api from "./endpoints.ts";
import { parseDockerHost, type DockerEndpoint } from "./host.ts";
import { JsonLinesParser, MultiplexedStreamDemuxer } from "./streams.ts";
import { DockerTransport, PREFERRED_API_VERSION, type ResponseBody } from "./transport.ts";
import { setTimeout as sleep } from "node:timers/promises";

/** Put on everything the agent creates, so Pier can tell its objects from the host's own. */
export const MANAGED_LABEL = MANAGED_LABEL_KEY;

export type DockerJson = Record<string, unknown>;
export type OutputStream = "stdout" | "stderr";
export interface OutputText {
  stream: OutputStream;
  text: string;
}

export interface ExecOptions {
  cmd: string[];
  env?: Record<string, string>;
  workdir?: string;
  user?: string;
  /** Output kept per stream, in characters; the rest is read and dropped. */
  maxChars?: number;
}

export interface ExecOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  truncated: boolean;
}

/**
 * The Engine API as the agent uses it. Methods are thin: the endpoint descriptors hold paths and
 * status meanings, the transport holds the one request path and the error mapping.
 */
export class DockerClient {
  readonly transport: DockerTransport;

  constructor(options: { host?: string | DockerEndpoint; dispatcher?: Dispatcher } = {}) {
    const where = typeof options.host === "object" ? options.host : parseDockerHost(options.host);
    this.transport = new DockerTransport(where, options.dispatcher);
  }

  get apiVersion(): string {
    return this.transport.apiVersion;
  }

  /**
   * Picks the API version for every later call: the preferred one when the engine serves it,
   * else the oldest the engine accepts (engines drop old versions over time) or its newest.
   */
  async negotiateApiVersion(signal: AbortSignal): Promise<DockerJson> {
    const version = await (this.transport.json(api.version, undefined, signal) as Promise<DockerJson>);
    const newest = typeof version.ApiVersion === "string" ? version.ApiVersion : PREFERRED_API_VERSION;
    const oldest = typeof version.MinAPIVersion === "string" ? version.MinAPIVersion : newest;
    if (compareVersions(newest, PREFERRED_API_VERSION) < 0) this.transport.apiVersion = newest;
    else if (compareVersions(oldest, PREFERRED_API_VERSION) > 0) this.transport.apiVersion = oldest;
    else this.transport.apiVersion = PREFERRED_API_VERSION;
    return version;
  }

  ping(signal: AbortSignal) {
    return this.transport.call(api.ping, undefined, signal);
  }
  version(signal: AbortSignal) {
    return this.transport.json(api.version, undefined, signal) as Promise<DockerJson>;
  }
  info(signal: AbortSignal) {
    return this.transport.json(api.info, undefined, signal) as Promise<DockerJson>;
  }

  listContainers(options: { all?: boolean }, signal: AbortSignal) {
    return this.transport.json(api.containerList, { all: options.all }, signal) as Promise<DockerJson[]>;
  }
  inspectContainer(id: string, signal: AbortSignal) {
    return this.transport.json(api.containerInspect, { id }, signal) as Promise<DockerJson>;
  }

  /** `body` is Docker's ContainerConfig (with HostConfig); the pier label is added here. */
  async createContainer(name: string | undefined, body: DockerJson, signal: AbortSignal) {
    const labels = { ...(body.Labels as Record<string, string> | undefined), [MANAGED_LABEL]: "true" };
    const created = await (this.transport.json(api.containerCreate, { name, body: { ...body, Labels: labels } }, signal) as Promise<{
      Id: string;
      Warnings?: string[] | null;
    }>);
    return { id: created.Id, warnings: created.Warnings ?? [] };
  }

  /** Creates a named volume with the pier label; an existing volume of that name is returned as is. */
  createVolume(name: string, signal: AbortSignal) {
    return this.transport.json(
      api.volumeCreate,
      { body: { Name: name, Labels: { [MANAGED_LABEL]: "true" } } },
      signal,
    ) as Promise<DockerJson>;
  }

  startContainer(id: string, signal: AbortSignal) {
    return this.transport.call(api.containerStart, { id }, signal);
  }
  stopContainer(id: string, timeoutSeconds: number | undefined, signal: AbortSignal) {
    return this.transport.call(api.containerStop, { id, t: timeoutSeconds }, signal);
  }
  restartContainer(id: string, timeoutSeconds: number | undefined, signal: AbortSignal) {
    return this.transport.call(api.containerRestart, { id, t: timeoutSeconds }, signal);
  }
  killContainer(id: string, killSignal: string | undefined, signal: AbortSignal) {
    return this.transport.call(api.containerKill, { id, signal: killSignal }, signal);
  }
  pauseContainer(id: string, signal: AbortSignal) {
    return this.transport.call(api.containerPause, { id }, signal);
  }
  unpauseContainer(id: string, signal: AbortSignal) {
    return this.transport.call(api.containerUnpause, { id }, signal);
  }
  async removeContainer(id: string, options: { force?: boolean; volumes?: boolean }, signal: AbortSignal) {
    await this.transport.call(api.containerRemove, { id, force: options.force, v: options.volumes }, signal);
  }
  top(id: string, psArgs: string | undefined, signal: AbortSignal) {
    return this.transport.json(api.containerTop, { id, ps_args: psArgs }, signal) as Promise<{ Titles: string[]; Processes: string[][] }>;
  }

  /**
   * Log output as decoded text pieces, in order. A container with a TTY writes one raw stream;
   * without one Docker multiplexes stdout and stderr, so the container is inspected first.
   */
  async *logs(id: string, query: api.LogsQuery, signal: AbortSignal): AsyncGenerator<OutputText> {
    const container = await this.inspectContainer(id, signal);
    const tty = (container.Config as { Tty?: boolean } | undefined)?.Tty === true;
    const reply = await this.transport.send(api.containerLogs, { id, ...query }, signal);
    yield* decodeOutput(reply.body, tty, signal);
  }

  /** Runs a command to completion without a TTY; output beyond `maxChars` is dropped. */
  async exec(id: string, options: ExecOptions, signal: AbortSignal): Promise<ExecOutcome> {
    const created = await (this.transport.json(
      api.execCreate,
      {
        id,
        body: {
          AttachStdout: true,
          AttachStderr: true,
          Cmd: options.cmd,
          Env: options.env ? Object.entries(options.env).map(([k, v]) => `${k}=${v}`) : undefined,
          WorkingDir: options.workdir,
          User: options.user,
        },
      },
      signal,
    ) as Promise<{ Id: string }>);
    const execId = created.Id;
    const reply = await this.transport.send(api.execStart, { execId }, signal);
    const max = options.maxChars ?? Number.POSITIVE_INFINITY;
    const out = { stdout: "", stderr: "" };
    let truncated = false;
    for await (const piece of decodeOutput(reply.body, false, signal)) {
      const room = max - out[piece.stream].length;
      if (piece.text.length > room) truncated = true;
      if (room > 0) out[piece.stream] += piece.text.slice(0, room);
    }
    // The output stream closes as the process exits; the exit code can trail it by a moment.
    for (let attempt = 0; ; attempt++) {
      const state = await (this.transport.json(api.execInspect, { execId }, signal) as Promise<{
        Running: boolean;
        ExitCode: number | null;
      }>);
      if (!state.Running || attempt >= 50) return { exitCode: state.ExitCode ?? -1, ...out, truncated };
      await sleep(20, undefined, { signal });
    }
  }

  /** One stats document; with `stream: false` Docker primes CPU figures first (about a second). */
  async statsOnce(id: string, signal: AbortSignal): Promise<DockerJson> {
    const reply = await this.transport.send(api.containerStats, { id, stream: false }, signal);
    const docs = await collectJson(reply.body, signal);
    return (docs[0] ?? {}) as DockerJson;
  }

  /** Stats documents as Docker produces them, about one a second, until the container stops. */
  async *statsStream(id: string, signal: AbortSignal): AsyncGenerator<DockerJson> {
    const reply = await this.transport.send(api.containerStats, { id, stream: true }, signal);
    yield* jsonLines(reply.body, signal) as AsyncGenerator<DockerJson>;
  }

  /**
   * Subscribes to the engine's event feed; resolves once the engine has accepted the
   * subscription, with the raw events until aborted. `since` is epoch seconds ("1700000000" or
   * Docker's "seconds.nanos").
   */
  async events(options: { since?: string; types?: readonly string[] }, signal: AbortSignal): Promise<AsyncGenerator<DockerJson>> {
    const filters = options.types ? { type: [...options.types] } : undefined;
    const reply = await this.transport.send(api.events, { since: options.since, filters }, signal);
    return jsonLines(reply.body, signal) as AsyncGenerator<DockerJson>;
  }

  listImages(options: { all?: boolean }, signal: AbortSignal) {
    return this.transport.json(api.imageList, { all: options.all }, signal) as Promise<DockerJson[]>;
  }

  /**
   * Pulls an image and waits for the end. Docker reports a failed pull inside a 200 stream
   * (`{"error": …}`), so the progress is read to the end and such a line becomes an error; every
   * other line goes to `onProgress`.
   */
  async pullImage(
    reference: string,
    options: {
      platform?: string;
      auth?: { username: string; password: string; serveraddress?: string };
      onProgress?: (line: PullLine) => void | Promise<void>;
    },
    signal: AbortSignal,
  ): Promise<{ status: string }> {
    const { name, tag } = splitReference(reference);
    const registryAuth = registryAuthHeader(options.auth);
    const reply = await this.transport.send(api.imagePull, { fromImage: name, tag, platform: options.platform, registryAuth }, signal);
    let status = "";
    for await (const line of jsonLines(reply.body, signal)) {
      const doc = line as PullLine & { error?: string; errorDetail?: { message?: string } };
      if (doc.error || doc.errorDetail) throw new ImagePullError(doc.errorDetail?.message ?? doc.error ?? "pull failed");
      if (doc.status) status = doc.status;
      await options.onProgress?.(doc);
    }
    return { status };
  }

  removeImage(name: string, options: { force?: boolean; noprune?: boolean }, signal: AbortSignal) {
    return this.transport.json(api.imageRemove, { name, ...options }, signal) as Promise<Array<{ Untagged?: string; Deleted?: string }>>;
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

/**
 * The X-Registry-Auth header: the credentials as JSON in base64 with the URL-safe alphabet *and*
 * its padding — the engine decodes with Go's padded URLEncoding, and Node's "base64url" drops the
 * padding, which turns the credentials into nothing and the pull into "no basic auth credentials".
 */
export function registryAuthHeader(auth: { username: string; password: string; serveraddress?: string } | undefined): string | undefined {
  if (!auth) return undefined;
  return Buffer.from(JSON.stringify(auth)).toString("base64").replaceAll("+", "-").replaceAll("/", "_");
}

/** One line of Docker's pull progress. */
export interface PullLine {
  status?: string;
  /** The layer, when the line is about one. */
  id?: string;
  progressDetail?: { current?: number; total?: number };
}

export class ImagePullError extends Error {
  override readonly name = "ImagePullError";
}

/** "repo:tag", "host:5000/repo:tag", "repo@sha256:…" → the fromImage and tag query values. */
export function splitReference(reference: string): { name: string; tag?: string } {
  if (reference.includes("@")) return { name: reference };
  const slash = reference.lastIndexOf("/");
  const colon = reference.lastIndexOf(":");
  if (colon > slash) return { name: reference.slice(0, colon), tag: reference.slice(colon + 1) };
  return { name: reference, tag: "latest" };
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

async function* bytes(body: ResponseBody, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  try {
    for await (const piece of body) yield piece as Uint8Array;
  } catch (error) {
    if (signal.aborted) throw signal.reason ?? error;
    throw error;
  } finally {
    // Stops the engine's stream when the consumer leaves early (cancel, deadline, enough read).
    if (!body.destroyed) body.destroy();
  }
}

async function* jsonLines(body: ResponseBody, signal: AbortSignal): AsyncGenerator<unknown> {
  const parser = new JsonLinesParser();
  for await (const piece of bytes(body, signal)) yield* parser.push(piece);
  yield* parser.end();
}

async function collectJson(body: ResponseBody, signal: AbortSignal): Promise<unknown[]> {
  const docs: unknown[] = [];
  for await (const doc of jsonLines(body, signal)) docs.push(doc);
  return docs;
}

async function* decodeOutput(body: ResponseBody, tty: boolean, signal: AbortSignal): AsyncGenerator<OutputText> {
  // One decoder per stream: a character split across frames belongs to its own stream's text.
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  const demuxer = tty ? undefined : new MultiplexedStreamDemuxer();
  for await (const piece of bytes(body, signal)) {
    if (!demuxer) {
      const text = decoders.stdout.decode(piece, { stream: true });
      if (text) yield { stream: "stdout", text };
      continue;
    }
    for (const frame of demuxer.push(piece)) {
      const stream = frame.stream === "stderr" ? "stderr" : "stdout";
      const text = decoders[stream].decode(frame.payload, { stream: true });
      if (text) yield { stream, text };
    }
  }
  for (const stream of ["stdout", "stderr"] as const) {
    const text = decoders[stream].decode();
    if (text) yield { stream, text };
  }
}
