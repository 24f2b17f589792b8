// Builds the agent into dist/ with esbuild: one ES module (dist/pier-agent.js) that plain `node`
// runs, with undici and zod inside it, so the published package has no dependencies to install.
// Deployment code (git, builds, the deploy engine) is split into chunks loaded on the first
// deploy command (ops/index.ts imports it dynamically), which keeps an idle agent small.
//
//   npm run build -w agent-relay     (also run by `npm pack`, as the prepack script)
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";

const here = import.meta.dirname;
const outdir = join(here, "dist");

await rm(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: { "pier-agent": join(here, "src/main.ts") },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  chunkNames: "chunks/[name]-[hash]",
  minifyWhitespace: true,
  minifySyntax: true,
  // Names stay, so stack traces and error names (ConfigError, DockerError, …) read as in the source.
  keepNames: true,
  sourcemap: "linked",
  legalComments: "linked",
  metafile: true,
  logLevel: "warning",
  // undici is CommonJS: its require() of Node's built-in modules needs a real `require` in an ES module.
  banner: {
    js: 'import { createRequire as __pierCreateRequire } from "node:module"; const require = __pierCreateRequire(import.meta.url);',
  },
});
// The entry point is the bin: `npm i -g` links it, so it needs the shebang (and the mode npm sets).
const entry = join(outdir, "pier-agent.js");
const { readFile, writeFile } = await import("node:fs/promises");
await writeFile(entry, `#!/usr/bin/env node\n${await readFile(entry, "utf8")}`, { mode: 0o755 });

const sizes = Object.entries(result.metafile.outputs)
  .filter(([file]) => file.endsWith(".js"))
  .map(([file, out]) => `${file.slice(file.indexOf("dist/"))} ${(out.bytes / 1024).toFixed(0)} KiB`);
console.error(`built ${sizes.join(", ")}`);
