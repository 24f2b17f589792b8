import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";
import { buildAssets } from "./scripts/build-assets.ts";

// wrangler.toml serves dist/assets: the Worker tests need it built (wrangler dev builds it itself).
await buildAssets();

/**
 * The order the projects run in. Everything but the browser files runs first, two files at a time
 * (the e2e files mostly wait on Docker and the stack, so two of them, or one beside a CPU-bound
 * node or worker file, share the two cores well). The files that drive chromium run after that,
 * one at a time: every container and network a file creates adds and removes a network interface,
 * chromium's network-change notifier (AddressTrackerLinux, over netlink) takes each one for a
 * change of network and fails the page's requests in flight with ERR_NETWORK_CHANGED, so a
 * browser file must not share the machine with another file's containers. (The suite took 1 234 s
 * with all e2e files two at a time, and a dashboard test then lost an API call to a network change.)
 */
const GROUP = { parallel: { order: 0, workers: 2 }, browser: { order: 1 } } as const;

/** The e2e files that drive a browser (test/e2e/browser.ts, or playwright-core directly). */
const BROWSER_FILES = ["test/e2e/dashboard*.test.ts", "test/e2e/swagger-ui.test.ts"];

const E2E: TestProjectInlineConfiguration["test"] = {
  environment: "node",
  include: ["test/e2e/**/*.test.ts"],
  globalSetup: ["test/setup/e2e-global-setup.ts"],
  // Ceilings for a stuck test, not timing expectations: every wait inside is on a condition,
  // and on a machine loaded by other suites a hook that starts agents, stores and a browser
  // has taken over 3 minutes.
  testTimeout: 300_000,
  hookTimeout: 600_000,
};

// Node-side code (local libSQL server, agent, end-to-end) runs in Node; the Worker
// runs inside workerd with real Durable Objects, against a local libSQL server that the global
// setup starts on a temporary file.
export default defineConfig({
  test: {
    // Request logs of passing tests are noise; a failing test shows its output.
    silent: "passed-only",
    reporters: ["default", "./test/setup/summary-reporter.ts"],
    projects: [
      {
        test: {
          name: "node",
          environment: "node",
          isolate: false,
          maxWorkers: GROUP.parallel.workers,
          sequence: { groupOrder: GROUP.parallel.order },
          include: ["scripts/**/*.test.ts", "agent-relay/**/*.test.ts", "test/*.test.ts", "web/src/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        // End to end: `npm start`'s whole stack, real agents, a real Docker engine. The files that
        // drive no browser run two at a time, beside the node and worker files (see GROUP).
        test: {
          ...E2E,
          name: "e2e",
          exclude: BROWSER_FILES,
          maxWorkers: GROUP.parallel.workers,
          sequence: { groupOrder: GROUP.parallel.order },
        },
      },
      {
        // The files that drive chromium, one at a time after everything else (see GROUP).
        test: { ...E2E, name: "e2e-browser", include: BROWSER_FILES, maxWorkers: 1, sequence: { groupOrder: GROUP.browser.order } },
      },
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                LIBSQL_URL: inject<string>("libsqlUrl"),
                // A second, empty database for the tests of the first-user bootstrap.
                FRESH_LIBSQL_URL: inject<string>("freshLibsqlUrl"),
                FIRST_RUN_LIBSQL_URL: inject<string>("firstRunLibsqlUrl"),
                // The backup destinations' tests: s3rver, started by the global setup.
                TEST_S3_ENDPOINT: inject<string>("s3Endpoint"),
                TEST_S3_DROPPING_ENDPOINT: inject<string>("s3DroppingEndpoint"),
                PIER_OPEN_REGISTRATION: "true",
                JWT_SECRET: "test-jwt-secret-not-for-production-0123456789",
                ENCRYPTION_KEY: "mOo7k0PJGemYJz25y3xQuFbYoQm4RU98LgT17cG2W6Q=",
                PIER_RATE_LIMIT_PER_MINUTE: "60",
                // Sign-in lockouts start at 5 s here (30 s by default), so their tests wait less.
                PIER_LOGIN_LOCKOUT_SECONDS: "5",
                // Notification channels deliver to loopback receivers in tests, and retry quickly.
                PIER_ALLOW_PRIVATE_URLS: "true",
                PIER_NOTIFY_RETRY_BASE_MS: "200",
              },
            },
          })),
        ],
        test: {
          name: "worker",
          maxWorkers: GROUP.parallel.workers,
          sequence: { groupOrder: GROUP.parallel.order },
          include: ["worker/**/*.test.ts"],
          globalSetup: ["test/setup/worker-global-setup.ts"],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
