// The agent's container image as scripts/images.sh builds it on this machine (a debootstrap
// Debian root, Node.js 22 from the npm registry, the packed agent), run the way the printed
// `docker run` command runs it: the Docker socket mounted, host networking. It must connect,
// serve commands against the host's engine, and stop cleanly with `docker stop`.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, docker, dockerAvailable, newHost, newOwner, type Owner, removeContainers, run, TEST_IMAGE, waitForStatus } from "./client.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const LABEL = `dev.pier.e2e=${process.pid}-image`;
const { version } = JSON.parse(await readFile(join(ROOT, "agent-relay/package.json"), "utf8")) as { version: string };
const IMAGE = `pier-agent:${version}`;

describe.skipIf(!dockerAvailable())("the agent's container image", () => {
  let owner: Owner;

  beforeAll(async () => {
    owner = await newOwner();
    // Built once per machine (CI builds it before the tests); skipped when present.
    await run("bash", ["scripts/images.sh"], { cwd: ROOT, timeout: 900_000 });
  }, 900_000);

  afterAll(async () => {
    await removeContainers(LABEL);
  });

  it("starts, connects, serves commands with the Docker socket mounted, and stops", async () => {
    const host = await newHost(owner);
    // The printed command, with a label so the test can clean up after itself.
    const printed = host.install.docker as string;
    expect(printed).toContain(`${IMAGE}`);
    const args = printed
      .replace(/^docker run -d /, "")
      .replace(/--group-add "\$\(stat -c %g \/var\/run\/docker.sock\)"/, "")
      .replace(` ${IMAGE}`, "")
      .split(/\s+/)
      .filter(Boolean);
    const gid = (await run("stat", ["-c", "%g", "/var/run/docker.sock"])).stdout.trim();
    const agentId = await docker(
      "run",
      "-d",
      "--label",
      LABEL,
      "--group-add",
      gid,
      ...args.map((a) => a.replace(/^pier-agent$/, `pier-agent-${process.pid}`)),
      IMAGE,
    );
    try {
      const online = await waitForStatus(owner, host.id, "online").catch(async (error) => {
        throw new Error(`${error.message}; agent logs:\n${await docker("logs", "--tail", "50", agentId)}`);
      });
      expect(online.agent_version).toBe(version);

      const id = await docker("run", "-d", "--label", LABEL, TEST_IMAGE, "sleep", "600");
      const list = await api(`/api/v1/hosts/${host.id}/containers?all=true`, { token: owner.token });
      expect(list.status).toBe(200);
      const ids = list.body.containers.map((c: { id: string }) => c.id);
      expect(ids).toContain(id);
      // The agent sees the host's engine, itself included.
      expect(ids).toContain(agentId);
      const stopped = await api(`/api/v1/hosts/${host.id}/containers/${id}/stop?timeout=0`, { token: owner.token, method: "POST" });
      expect(stopped.status).toBeLessThan(300);
      expect(await docker("inspect", "-f", "{{.State.Running}}", id)).toBe("false");

      // SIGTERM from `docker stop` ends the agent cleanly (exit code 0, not a kill after the timeout).
      await docker("stop", "-t", "20", agentId);
      expect(await docker("inspect", "-f", "{{.State.ExitCode}}", agentId)).toBe("0");
      await waitForStatus(owner, host.id, "disconnected");
    } finally {
      await docker("rm", "-f", agentId).catch(() => undefined);
    }
  });
});
