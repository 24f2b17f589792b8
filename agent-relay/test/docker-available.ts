/**
 * Decides whether tests that need a real Docker engine run. Under CI=true a missing engine (or
 * test image) is a failure, because a green run must mean the Docker paths were exercised; on a
 * developer machine the tests skip with a loud warning instead.
 *
 *   const docker = await requireDocker(import.meta.url);
 *   describe.skipIf(!docker.available)("…", () => { … });
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { DockerClient } from "../src/docker/client.ts";

export const TEST_IMAGE = "pier-test/busybox:latest";

export interface DockerAvailability {
  available: boolean;
  /** Why not, when not. */
  reason?: string;
}

let probe: Promise<DockerAvailability> | undefined;

async function probeDocker(): Promise<DockerAvailability> {
  const client = new DockerClient({ host: process.env.DOCKER_HOST });
  try {
    const signal = AbortSignal.timeout(5_000);
    await client.ping(signal);
    const images = (await client.listImages({}, signal)) as Array<{ RepoTags?: string[] | null }>;
    if (!images.some((image) => image.RepoTags?.includes(TEST_IMAGE))) {
      return { available: false, reason: `the test image ${TEST_IMAGE} is missing (run scripts/docker-setup.sh)` };
    }
    await promisify(execFile)("docker", ["version", "--format", "{{.Server.Version}}"], { timeout: 10_000 });
    return { available: true };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { available: false, reason: `no usable Docker engine (${detail}); run scripts/docker-setup.sh` };
  } finally {
    await client.close();
  }
}

/** Probes once per test file; throws under CI=true when Docker is missing, else warns. */
export async function requireDocker(suite: string): Promise<DockerAvailability> {
  probe ??= probeDocker();
  const result = await probe;
  if (result.available) return result;
  if (process.env.CI === "true") {
    throw new Error(`${suite} needs Docker and CI=true forbids skipping: ${result.reason}`);
  }
  // Straight to stderr: vitest drops console output printed while a skipped file is collected.
  process.stderr.write(`\n!!! SKIPPING Docker tests in ${suite}: ${result.reason}.\n!!! These tests are REQUIRED in CI (CI=true).\n\n`);
  return result;
}
