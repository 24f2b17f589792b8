// Starts a local libSQL server on a fresh temporary database for the Worker tests, applies the
// migrations, and hands its URL to the workerd pool (vitest.config.ts reads it with `inject`).
import { mkdtemp, rm } from "node:fs/promises";
import { connect, createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startLibsqlServer } from "../../scripts/libsql-server/server.ts";
import { migrate } from "../../scripts/migrate.ts";
import { startS3 } from "../fixtures/s3.ts";

declare module "vitest" {
  export interface ProvidedContext {
    libsqlUrl: string;
    freshLibsqlUrl: string;
    firstRunLibsqlUrl: string;
    /** An S3-compatible store (s3rver, bucket pier-test) for the backup destinations' tests. */
    s3Endpoint: string;
    /** The same store behind a front that drops, without an answer, the first of each request to a `/drop-once/` key. */
    s3DroppingEndpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), "pier-worker-test-"));
  const server = await startLibsqlServer({ path: join(dir, "test.db") });
  const fresh = await startLibsqlServer({ path: join(dir, "fresh.db") });
  // Another empty one, for the first-run state (routes/setup.test.ts), which must see no user at all.
  const firstRun = await startLibsqlServer({ path: join(dir, "first-run.db") });
  await migrate(server.url);
  await migrate(fresh.url);
  await migrate(firstRun.url);
  project.provide("libsqlUrl", server.url);
  project.provide("freshLibsqlUrl", fresh.url);
  project.provide("firstRunLibsqlUrl", firstRun.url);
  const s3 = await startS3(["pier-test", "pier-other"]);
  project.provide("s3Endpoint", s3.endpoint);
  const dropping = await droppingFront(new URL(s3.endpoint));
  project.provide("s3DroppingEndpoint", `http://127.0.0.1:${(dropping.address() as AddressInfo).port}`);
  return async () => {
    await new Promise((resolve) => dropping.close(resolve));
    await s3.close();
    await server.close();
    await fresh.close();
    await firstRun.close();
    await rm(dir, { recursive: true, force: true });
  };
}

/**
 * A TCP front for `target` that closes a connection without answering when its first request is
 * the first of its method and path to a `/drop-once/` key: what a kept-alive connection the
 * store has just closed looks like to the client. Everything else is passed through.
 */
async function droppingFront(target: URL): Promise<Server> {
  const seen = new Set<string>();
  const server = createServer((client) => {
    client.once("data", (first) => {
      const line = first.toString("latin1", 0, first.indexOf("\r\n"));
      const [method, path] = line.split(" ");
      if (path?.includes("/drop-once/") && !seen.has(`${method} ${path}`)) {
        seen.add(`${method} ${path}`);
        client.destroy();
        return;
      }
      const upstream = connect(Number(target.port), target.hostname, () => {
        upstream.write(first);
        client.pipe(upstream).pipe(client);
      });
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}
