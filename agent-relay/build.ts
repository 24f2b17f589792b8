// Builds the agent into dist/ with esbuild: one ES module (dist/pier-agent.js) that plain `node`
// runs, with undici and zod inside it, so the published package has no dependencies to install.
// Deployment code (git, builds, the deploy engine) is split into chunks loaded on the first
// deploy command (ops/index.ts imports it dynamically), which keeps an idle agent small.
//
//   npm run build -w agent-relay     (also run by `npm pack`, as the prepack script)
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { build, type Plugin } from "esbuild";

const here = import.meta.dirname;

/**
 * V8 options the bin runs with (its shebang): an agent's heap is small and mostly long-lived, so a
 * 1 MiB young generation (instead of up to 16 MiB per semi-space) and V8's size-over-speed
 * heuristics take ~12 MiB off its resident memory; `--no-opt` leaves TurboFan, V8's top-tier
 * optimizing compiler, off (Ignition and Sparkplug still run; Node 22's V8 has Maglev off), which spares its code pages
 * and compilation zones another ~7 MiB idle and ~9 MiB under load. None costs CPU measurable by
 * `npm run bench:agent`, which compares options (README, Performance): the agent waits on sockets,
 * its hot paths (JSON, Buffers, the HTTP parser in WebAssembly) are native code either way.
 */
const NODE_OPTIONS = ["--max-semi-space-size=1", "--optimize-for-size", "--no-opt"];
const outdir = join(here, "dist");

/**
 * What the agent takes from undici, from undici's own modules rather than its index, which loads
 * all of undici (fetch, caches, mocks, proxies, EventSource, …) when the agent starts. The index
 * also adds `request()` and the other API methods to every dispatcher, which the agent calls, so
 * this does too. Only the bundle resolves "undici" here; the sources and their tests import the
 * package as published. A name the agent imports that is missing here fails the build.
 * With the HTTP/2 client left out (below): an idle agent ~4–5 MiB smaller and one under load ~6 MiB
 * (`npm run bench:agent`, README "Performance").
 */
const UNDICI_EXPORTS: Record<string, string> = {
  Agent: 'require("undici/lib/dispatcher/agent.js")',
  WebSocket: 'require("undici/lib/web/websocket/websocket.js").WebSocket',
};
const undiciParts: Plugin = {
  name: "undici-parts",
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, (args) =>
      args.importer.includes(`${here}/src`) ? { path: "undici", namespace: "pier-agent-undici" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "pier-agent-undici" }, () => ({
      loader: "ts",
      resolveDir: here,
      contents: [
        'const Dispatcher = require("undici/lib/dispatcher/dispatcher.js");',
        'Object.assign(Dispatcher.prototype, require("undici/lib/api/index.js"));',
        ...Object.entries(UNDICI_EXPORTS).map(([name, value]) => `export const ${name} = ${value};`),
      ].join("\n"),
    }));
  },
};

/**
 * undici's HTTP/2 client, left out. Its module requires node:http2 when undici loads, and that pulls
 * in Node's TLS, crypto and HTTP/2 modules (~4 MiB resident, loaded alone), for a protocol the
 * agent never speaks (the Docker socket and the relay's WebSocket upgrade are HTTP/1.1). Its dispatchers say so with `allowH2: false`, so a TLS handshake
 * never offers h2; should one ever be negotiated anyway, the connection fails with this message
 * instead of the agent crashing.
 */
const withoutHttp2: Plugin = {
  name: "without-http2",
  setup(b) {
    b.onResolve({ filter: /[\\/]client-h2\.js$/ }, (args) =>
      args.importer.includes("undici") ? { path: "undici-client-h2", namespace: "pier-agent-stub" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "pier-agent-stub" }, () => ({
      loader: "js",
      contents:
        'module.exports = function connectH2() { throw new Error("pier-agent does not speak HTTP/2: the server negotiated h2 although the agent offered only http/1.1"); };',
    }));
  },
};

// Built beside dist/ and moved in file by file (rename is atomic), so whoever reads dist/ meanwhile
// (`npm pack`, an agent starting, another build of the same sources in a parallel test file) never
// finds it empty or half written; the chunks' names are their content's hash, so two builds of the
// same sources write the same files.
const staging = await mkdtemp(join(here, ".dist-staging-"));
const result = await build({
  entryPoints: { "pier-agent": join(here, "src/main.ts") },
  outdir: staging,
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
  plugins: [undiciParts, withoutHttp2],
  // undici is CommonJS: its require() of Node's built-in modules needs a real `require` in an ES module.
  banner: {
    js: 'import { createRequire as __pierCreateRequire } from "node:module"; const require = __pierCreateRequire(import.meta.url);',
  },
});
// The entry point is the bin: `npm i -g` links it, so it needs the shebang (and the mode npm sets).
// `env -S` splits the node options off (coreutils 8.30+, macOS; npm's Windows shims read it too).
const entry = join(staging, "pier-agent.js");
await writeFile(entry, `#!/usr/bin/env -S node ${NODE_OPTIONS.join(" ")}\n${await readFile(entry, "utf8")}`);
// writeFile's mode applies only to a file it creates, and esbuild created this one.
await chmod(entry, 0o755);
const built = (await readdir(staging, { recursive: true, withFileTypes: true }))
  .filter((e) => e.isFile())
  .map((e) => relative(staging, join(e.parentPath, e.name)));
for (const file of built) {
  await mkdir(dirname(join(outdir, file)), { recursive: true });
  await rename(join(staging, file), join(outdir, file));
}
// Files of an earlier build of other sources.
const keep = new Set(built);
for (const e of await readdir(outdir, { recursive: true, withFileTypes: true })) {
  const file = relative(outdir, join(e.parentPath, e.name));
  if (e.isFile() && !keep.has(file)) await rm(join(outdir, file), { force: true });
}
await rm(staging, { recursive: true, force: true });

const sizes = Object.entries(result.metafile.outputs)
  .filter(([file]) => file.endsWith(".js"))
  .map(([file, out]) => `dist/${file.split(/\.dist-staging-[^/]+\//)[1] ?? file} ${(out.bytes / 1024).toFixed(0)} KiB`);
console.error(`built ${sizes.join(", ")}`);
