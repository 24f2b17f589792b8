import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { buildAssets } from "./scripts/build-assets.ts";

// wrangler.toml serves dist/assets: the Worker tests need it built (wrangler dev builds it itself).
await buildAssets();

// Two projects: Node-side code (local libSQL server, agent, end-to-end) runs in Node; the Worker
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
          include: ["scripts/**/*.test.ts", "agent-relay/**/*.test.ts", "test/*.test.ts", "web/src/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        // End to end: `npm start`'s whole stack, real agents, a real Docker engine.
        test: {
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: ["test/setup/e2e-global-setup.ts"],
          // One file at a time (vitest's default on two cores). Two at once took the suite from about
          // 1 480 s to 1 234 s, but every container and network another file creates is a network
          // change to chromium, and a browser test's API call failed on one (dashboard-apps, CI run
          // of e4a9cd0): run them side by side again once the dashboard's fetches survive that.
          // Ceilings for a stuck test, not timing expectations: every wait inside is on a condition,
          // and on a machine loaded by other suites a hook that starts agents, stores and a browser
          // has taken over 3 minutes.
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
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
          include: ["worker/**/*.test.ts"],
          globalSetup: ["test/setup/worker-global-setup.ts"],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
