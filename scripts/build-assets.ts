// Builds the Worker's static assets (wrangler.toml [assets]) into dist/assets: Swagger UI from the
// pinned swagger-ui-dist package, served by the Worker itself so /swagger works offline and under
// a strict CSP. wrangler runs this before `wrangler dev` and `wrangler deploy` ([build] in
// wrangler.toml), and vitest.config.ts before the Worker tests. The dashboard (web/) will build
// into the same directory; this script only owns dist/assets/swagger-ui/.
import { copyFile, mkdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const ASSETS_DIR = join(ROOT, "dist", "assets");
/** Where the Swagger UI files are served from (worker/routes/swagger.ts links them). */
export const SWAGGER_DIR = join(ASSETS_DIR, "swagger-ui");

const SWAGGER_FILES = [
  "swagger-ui.css",
  "swagger-ui-bundle.js",
  "swagger-ui-standalone-preset.js",
  "favicon-32x32.png",
  "favicon-16x16.png",
];

export async function buildAssets(): Promise<string> {
  const dist = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  await rm(SWAGGER_DIR, { recursive: true, force: true });
  await mkdir(SWAGGER_DIR, { recursive: true });
  for (const file of SWAGGER_FILES) await copyFile(join(dist, file), join(SWAGGER_DIR, file));
  await copyFile(join(ROOT, "worker", "static", "swagger-init.js"), join(SWAGGER_DIR, "pier-init.js"));
  return ASSETS_DIR;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(`static assets built in ${await buildAssets()}`);
}
