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

/**
 * V8 options the bin runs with (its shebang): an agent's heap is small and mostly long-lived, so a
 * 1 MiB young generation (instead of up to 16 MiB per semi-space) and V8's size-over-speed
 * heuristics take ~12 MiB off its resident memory; `--no-opt` leaves TurboFan, V8's top-tier
 * optimizing compiler, off (Ignition, Sparkplug and Maglev still run), which spares its code pages
 * and compilation zones another ~7 MiB idle and ~9 MiB under load. None costs CPU measurable by
 * `npm run bench:agent`, which compares options (README, Performance): the agent waits on sockets,
 * its hot paths (JSON, Buffers, the HTTP parser in WebAssembly) are native code either way.
 */
const NODE_OPTIONS = ["--max-semi-space-size=1", "--optimize-for-size", "--no-opt"];
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
// `env -S` splits the node options off (coreutils 8.30+, macOS; npm's Windows shims read it too).
const entry = join(outdir, "pier-agent.js");
const { chmod, readFile, writeFile } = await import("node:fs/promises");
await writeFile(entry, `#!/usr/bin/env -S node ${NODE_OPTIONS.join(" ")}\n${await readFile(entry, "utf8")}`);
// writeFile's mode applies only to a file it creates, and esbuild created this one.
await chmod(entry, 0o755);

const sizes = Object.entries(result.metafile.outputs)
  .filter(([file]) => file.endsWith(".js"))
  .map(([file, out]) => `${file.slice(file.indexOf("dist/"))} ${(out.bytes / 1024).toFixed(0)} KiB`);
console.error(`built ${sizes.join(", ")}`);
