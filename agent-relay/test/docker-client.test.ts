import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerClient, MANAGED_LABEL, type OutputText } from "../src/docker/client.ts";
import { DockerError } from "../src/docker/errors.ts";
import { normalizeStats } from "../src/protocol.ts";
import { requireDocker, TEST_IMAGE } from "./docker-available.ts";
import { waitFor } from "../../test/support/wait.ts";

const docker = await requireDocker("agent-relay/test/docker-client.test.ts");

describe.skipIf(!docker.available)("DockerClient against the real engine", () => {
  const client = new DockerClient({ host: process.env.DOCKER_HOST });
  const signal = () => AbortSignal.timeout(30_000);
  const created: string[] = [];
  let id = "";
  const name = `pier-test-client-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    await client.negotiateApiVersion(signal());
  });

  afterAll(async () => {
    for (const container of created) {
      await client.removeContainer(container, { force: true }, signal()).catch(() => {});
    }
    await client.close();
  });

  it("speaks a pinned API version", () => {
    expect(client.apiVersion).toMatch(/^1\.\d+$/);
  });

  it("creates a container carrying the pier label", async () => {
    const result = await client.createContainer(
      name,
      {
        Image: TEST_IMAGE,
        Cmd: ["sh", "-c", "echo to-stdout; echo to-stderr >&2; exec sleep 300"],
        Labels: { purpose: "test" },
      },
      signal(),
    );
    id = result.id;
    created.push(id);
    const inspected = await client.inspectContainer(id, signal());
    const labels = (inspected.Config as { Labels: Record<string, string> }).Labels;
    expect(labels).toMatchObject({ [MANAGED_LABEL]: "true", purpose: "test" });
    expect(inspected.Name).toBe(`/${name}`);
  });

  it("starts it, and a second start is a documented no-op (304)", async () => {
    expect(await client.startContainer(id, signal())).toEqual({ changed: true });
    expect(await client.startContainer(id, signal())).toEqual({ changed: false, note: "container already started" });
    const inspected = await client.inspectContainer(id, signal());
    expect((inspected.State as { Running: boolean }).Running).toBe(true);
  });

  it("reads logs with stdout and stderr kept apart", async () => {
    // The shell writes right after start; poll until both lines are there.
    const pieces = await waitFor("both lines in the logs", async () => {
      const read: OutputText[] = [];
      for await (const piece of client.logs(id, { stdout: true, stderr: true }, signal())) read.push(piece);
      return read.length >= 2 ? read : undefined;
    });
    const text = (stream: string) =>
      pieces
        .filter((p) => p.stream === stream)
        .map((p) => p.text)
        .join("");
    expect(text("stdout")).toBe("to-stdout\n");
    expect(text("stderr")).toBe("to-stderr\n");
  });

  it("runs exec with exit code, stdout and stderr", async () => {
    const outcome = await client.exec(
      id,
      { cmd: ["sh", "-c", "echo $GREETING; echo oops >&2; exit 7"], env: { GREETING: "hi there" } },
      signal(),
    );
    expect(outcome).toEqual({ exitCode: 7, stdout: "hi there\n", stderr: "oops\n", truncated: false });
  });

  it("truncates exec output past the limit", async () => {
    const outcome = await client.exec(id, { cmd: ["sh", "-c", "echo 0123456789"], maxChars: 4 }, signal());
    expect(outcome).toMatchObject({ exitCode: 0, stdout: "0123", truncated: true });
  });

  it("lists processes (top)", async () => {
    const top = await client.top(id, undefined, signal());
    expect(top.Titles).toContain("PID");
    expect(top.Processes.some((row) => row.join(" ").includes("sleep 300"))).toBe(true);
  });

  it("samples stats", async () => {
    const sample = normalizeStats(await client.statsOnce(id, signal()), id);
    expect(sample.id).toBe(id);
    expect(sample.name).toBe(name);
    expect(sample.memory_usage).toBeGreaterThan(0);
    expect(sample.memory_limit).toBeGreaterThan(0);
    expect(sample.pids).toBeGreaterThanOrEqual(1);
    expect(sample.read_at).not.toBeNull();
  });

  it("refuses to remove a running container without force (409)", async () => {
    const error = await client.removeContainer(id, {}, signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DockerError);
    expect((error as DockerError).status).toBe(409);
    expect((error as DockerError).engineMessage).toMatch(/running container/i);
  });

  it("stops it, and a second stop is a no-op", async () => {
    expect(await client.stopContainer(id, 1, signal())).toEqual({ changed: true });
    expect(await client.stopContainer(id, 1, signal())).toEqual({ changed: false, note: "container already stopped" });
  });

  it("reports a stopped container's stats as zeros", async () => {
    const sample = normalizeStats(await client.statsOnce(id, signal()), id);
    expect(sample).toMatchObject({ cpu_percent: 0, memory_usage: 0, read_at: null });
  });

  it("removes it", async () => {
    await client.removeContainer(id, { volumes: true }, signal());
    const error = await client.inspectContainer(id, signal()).catch((e: unknown) => e);
    expect((error as DockerError).status).toBe(404);
  });

  it("turns a missing container into DockerError 404 with the engine's message", async () => {
    const missing = `pier-test-missing-${randomUUID()}`;
    const error = await client.inspectContainer(missing, signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DockerError);
    expect(error).toMatchObject({ name: "DockerError", status: 404, endpoint: "container.inspect" });
    expect((error as DockerError).engineMessage).toContain(`No such container: ${missing}`);
  });

  it("rejects a second container with the same name (409)", async () => {
    const first = await client.createContainer(undefined, { Image: TEST_IMAGE, Cmd: ["true"] }, signal());
    created.push(first.id);
    const inspected = await client.inspectContainer(first.id, signal());
    const taken = String(inspected.Name).slice(1);
    const error = await client.createContainer(taken, { Image: TEST_IMAGE }, signal()).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 409 });
    expect((error as DockerError).engineMessage).toMatch(/already in use/);
  });

  it("aborts a call with the signal's reason", async () => {
    const controller = new AbortController();
    const reason = new Error("deadline passed");
    const events = await client.events({}, controller.signal);
    const next = events.next();
    controller.abort(reason);
    await expect(next).rejects.toBe(reason);
  });
});
