// The local registry fixture (test/fixtures/registry.ts) against the real engine: `docker pull`
// from it gives the same layers as the source image and a runnable container, an image the engine
// does not have is fetched blob by blob, a missing tag is "manifest unknown", and with Basic auth a
// pull needs `docker login` first.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRegistry, type LocalRegistry } from "../../test/fixtures/registry.ts";
import { requireDocker, TEST_IMAGE } from "./docker-available.ts";

const exec = promisify(execFile);
const available = await requireDocker("agent-relay/test/registry-fixture.test.ts");

describe.skipIf(!available.available)("the local registry fixture", () => {
  const suffix = randomUUID().slice(0, 8);
  const name = `pier-test/pulled-${suffix}`;
  const privateName = `pier-test/private-${suffix}`;
  // A committed image of its own (a new layer and config), deleted once exported, so the pull
  // cannot stop at the manifest: the engine skips the blobs when it already has the image ID.
  const freshSource = `pier-test/fresh-source-${suffix}:latest`;
  const freshName = `pier-test/fresh-${suffix}`;
  let freshLayers: string[];
  let freshId: string;
  const auth = { username: "pier", password: `secret-${suffix}` };
  let registry: LocalRegistry;
  let privateRegistry: LocalRegistry;
  let dockerConfig: string;
  // Every CLI call gets a throwaway DOCKER_CONFIG, so logins never touch the machine's own config.
  const docker = (...args: string[]) =>
    exec("docker", args, { env: { ...process.env, DOCKER_CONFIG: dockerConfig }, timeout: 60_000 }).then((r) => r.stdout.trim());
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => "",
      (error: { stderr?: string; message: string }) => `${error.stderr ?? ""}${error.message}`,
    );
  const rootfs = async (image: string) => JSON.parse(await docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", image));

  beforeAll(async () => {
    dockerConfig = await mkdtemp(join(tmpdir(), "pier-docker-config-"));
    const container = `pier-registry-test-${suffix}`;
    await docker("run", "--name", container, TEST_IMAGE, "sh", "-c", `echo ${suffix} > /id`);
    await docker("commit", container, freshSource);
    await docker("rm", container);
    freshLayers = await rootfs(freshSource);
    freshId = await docker("image", "inspect", "--format", "{{.Id}}", freshSource);
    registry = await startRegistry({
      images: [
        { source: TEST_IMAGE, name, tag: "v1" },
        { source: freshSource, name: freshName, tag: "v1" },
      ],
    });
    await docker("rmi", freshSource);
    privateRegistry = await startRegistry({ images: [{ source: TEST_IMAGE, name: privateName, tag: "v1" }], auth });
  });

  afterAll(async () => {
    const pulled = [registry?.reference(name, "v1"), registry?.reference(freshName, "v1"), privateRegistry?.reference(privateName, "v1")];
    for (const reference of [...pulled, freshSource]) {
      if (reference) await docker("rmi", reference).catch(() => undefined);
    }
    await registry?.close();
    await privateRegistry?.close();
    await rm(dockerConfig, { recursive: true, force: true });
  });

  it("serves a pull that gives the source's layers and a runnable image", async () => {
    const reference = registry.reference(name, "v1");
    expect(reference).toBe(`${registry.host}/${name}:v1`);
    await docker("pull", reference);
    expect(await rootfs(reference)).toEqual(await rootfs(TEST_IMAGE));
    expect(await docker("run", "--rm", reference, "echo", "ok")).toBe("ok");
    // The engine resolves the tag with HEAD; having the image ID already, it fetches nothing more.
    expect(registry.requests).toContain("GET /v2/");
    expect(registry.requests).toContain(`HEAD /v2/${name}/manifests/v1`);
  });

  it("serves the config and gzipped layers of an image the engine does not have", async () => {
    const reference = registry.reference(freshName, "v1");
    await docker("pull", reference);
    expect(await rootfs(reference)).toEqual(freshLayers);
    expect(await docker("image", "inspect", "--format", "{{.Id}}", reference)).toBe(freshId);
    expect(await docker("run", "--rm", reference, "cat", "/id")).toBe(suffix);
    const blobs = registry.requests.filter((line) => line.startsWith(`GET /v2/${freshName}/blobs/`));
    expect(blobs).toContain(`GET /v2/${freshName}/blobs/${freshId}`);
    expect(blobs.length).toBeGreaterThanOrEqual(2);
  });

  it("answers a missing tag with manifest unknown", async () => {
    const message = await failure(docker("pull", registry.reference(name, "missing")));
    expect(message).toMatch(/manifest unknown|not found/i);
    const unknownName = await failure(docker("pull", registry.reference(`pier-test/nothing-${suffix}`, "v1")));
    expect(unknownName).toMatch(/name unknown|not known|not found|does not exist/i);
  });

  it("requires Basic auth when configured, and pulls after docker login", async () => {
    const reference = privateRegistry.reference(privateName, "v1");
    const message = await failure(docker("pull", reference));
    expect(message).toMatch(/unauthorized|no basic auth credentials|authentication required/i);
    expect(privateRegistry.requests.length).toBeGreaterThan(0);

    const wrong = await failure(docker("login", privateRegistry.host, "-u", auth.username, "-p", "wrong"));
    expect(wrong).toMatch(/unauthorized|authentication required/i);
    await docker("login", privateRegistry.host, "-u", auth.username, "-p", auth.password);
    try {
      await docker("pull", reference);
      expect(await rootfs(reference)).toEqual(await rootfs(TEST_IMAGE));
    } finally {
      await docker("logout", privateRegistry.host);
    }
  });
});
