// Builds the Worker's static assets (wrangler.toml [assets]) into dist/assets:
//   - swagger-ui/: Swagger UI from the pinned swagger-ui-dist package, served by the Worker itself
//     so /swagger works offline and under a strict CSP;
//   - ui/: the dashboard (web/), built by Vite; the Worker serves its index.html to browser
//     navigations (worker/routes/dashboard.ts).
// wrangler runs this before `wrangler dev` and `wrangler deploy` ([build] in wrangler.toml), and
// vitest.config.ts before the Worker tests. The dashboard is rebuilt only when its sources (or the
// lockfile) changed: the machines this runs on are small and shared.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const ASSETS_DIR = join(ROOT, "dist", "assets");
/** Where the Swagger UI files are served from (worker/routes/swagger.ts links them). */
export const SWAGGER_DIR = join(ASSETS_DIR, "swagger-ui");
/** The dashboard's build (web/vite.config.ts builds into it). */
export const DASHBOARD_DIR = join(ASSETS_DIR, "ui");
/** The first screen's compressed JavaScript may not exceed this (issue 11). */
export const FIRST_SCREEN_BUDGET_BYTES = 200 * 1024;

const SWAGGER_FILES = [
  "swagger-ui.css",
  "swagger-ui-bundle.js",
  "swagger-ui-standalone-preset.js",
  "favicon-32x32.png",
  "favicon-16x16.png",
];

/**
 * Copies the Swagger UI files, writing only those that differ: every `wrangler dev` runs this build,
 * and a test that starts a stack of its own must not touch the files another running stack
 * serves (wrangler dev reloads its Worker when its assets change, dropping agents and requests).
 */
async function buildSwagger(): Promise<void> {
  const dist = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  await mkdir(SWAGGER_DIR, { recursive: true });
  const sources = [
    ...SWAGGER_FILES.map((file) => [join(dist, file), file] as const),
    [join(ROOT, "worker", "static", "swagger-init.js"), "pier-init.js"] as const,
  ];
  const wanted = new Set(sources.map(([, name]) => name));
  for (const name of await readdir(SWAGGER_DIR)) if (!wanted.has(name)) await rm(join(SWAGGER_DIR, name), { recursive: true, force: true });
  for (const [from, name] of sources) {
    const to = join(SWAGGER_DIR, name);
    const bytes = await readFile(from);
    if (existsSync(to) && bytes.equals(await readFile(to))) continue;
    await writeFile(to, bytes);
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (!entry.name.includes(".test.")) out.push(path);
  }
  return out.sort();
}

/** A digest of everything the dashboard's build reads: its sources, the API types, the lockfile, and how this file builds it. */
async function dashboardSourceDigest(): Promise<string> {
  const hash = createHash("sha256");
  const files = [
    ...(await filesUnder(join(ROOT, "web"))),
    join(ROOT, "test", "generated", "pier-api.ts"),
    join(ROOT, "package-lock.json"),
    fileURLToPath(import.meta.url),
  ];
  for (const file of files)
    hash
      .update(relative(ROOT, file))
      .update("\0")
      .update(await readFile(file))
      .update("\0");
  return hash.digest("hex");
}

export interface FirstScreen {
  /** The scripts index.html loads up front (its entry and the modules it preloads). */
  files: string[];
  gzipBytes: number;
}

/** What the first screen costs: the JavaScript index.html loads before any route chunk, gzipped. */
export async function measureFirstScreen(dir = DASHBOARD_DIR): Promise<FirstScreen> {
  const html = await readFile(join(dir, "index.html"), "utf8");
  const refs = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\/ui\/([^"]+\.js)"/g)].map((m) => m[1]!);
  let gzipBytes = 0;
  for (const ref of refs) gzipBytes += gzipSync(await readFile(join(dir, ref)), { level: 9 }).length;
  return { files: refs, gzipBytes };
}

async function buildDashboard(): Promise<void> {
  const digest = await dashboardSourceDigest();
  const stamp = join(DASHBOARD_DIR, ".source-digest");
  if (existsSync(stamp) && (await readFile(stamp, "utf8")) === digest) return;
  const { build } = await import("vite");
  // Vite bundles React's development build (twice the size, and slow) whenever NODE_ENV says
  // anything but production, and this often runs inside a test run (vitest sets "test") whose
  // build is then kept by the stamp below: the dashboard is always built for production.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    await build({ configFile: join(ROOT, "web", "vite.config.ts"), logLevel: "warn", mode: "production" });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  await writeFile(stamp, digest);
  const first = await measureFirstScreen();
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const verdict = first.gzipBytes <= FIRST_SCREEN_BUDGET_BYTES ? "within" : "OVER";
  console.log(
    `dashboard: first screen loads ${kb(first.gzipBytes)} of gzipped JavaScript (${verdict} the ${kb(FIRST_SCREEN_BUDGET_BYTES)} budget)`,
  );
}

export async function buildAssets(): Promise<string> {
  await buildSwagger();
  await buildDashboard();
  return ASSETS_DIR;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // `npm run types` (and so `npm run typecheck`) runs `wrangler types`, which runs this [build] step
  // only to find the Worker's entry: it skips the assets, which types do not depend on.
  if (process.env.PIER_SKIP_ASSETS_BUILD === "1") console.log("static assets: not built (PIER_SKIP_ASSETS_BUILD=1)");
  else console.log(`static assets built in ${await buildAssets()}`);
}
