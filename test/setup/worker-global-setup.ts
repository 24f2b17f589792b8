// Starts a local libSQL server on a fresh temporary database for the Worker tests, applies the
// migrations, and hands its URL to the workerd pool (vitest.config.ts reads it with `inject`).
import { mkdtemp, rm } from "node:fs/promises";
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
  return async () => {
    await s3.close();
    await server.close();
    await fresh.close();
    await firstRun.close();
    await rm(dir, { recursive: true, force: true });
  };
}
