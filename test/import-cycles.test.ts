import { readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

// A runtime import cycle makes a module's top-level code see another's exports before they are
// initialized (issue 9: STALE_MIRROR_MS was NaN when the bundle started from the relay's side).
// esbuild resolves the Worker's graph as wrangler bundles it; with verbatimModuleSyntax an
// `import type` is the only import it drops, so what remains is what runs.

type Graph = Map<string, string[]>;

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Strongly connected components with more than one module (or a module importing itself): Tarjan. */
function importCycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.includes(v)) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/** Every module of a tree that ships (tests and type declarations aside), as a repository path. */
async function sourceModules(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name) && !/\.(test|d)\.tsx?$/.test(e.name))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)).split(sep).join("/"))
    .filter((path) => !path.includes("/node_modules/"))
    .sort();
}

const own = (path: string) => path.startsWith("worker/") || path.startsWith("agent-relay/src/");

/**
 * The static runtime imports among our own modules, starting from every module of `trees` (not
 * only from an entry point, so a module nothing imports yet is checked too). Packages stay
 * external: a cycle through a dependency is not ours to break.
 */
async function importGraph(trees: string[], platform: "neutral" | "node"): Promise<Graph> {
  const entryPoints = (await Promise.all(trees.map(sourceModules))).flat();
  const result = await build({
    entryPoints,
    bundle: true,
    write: false,
    outdir: "out",
    metafile: true,
    format: "esm",
    platform,
    mainFields: ["module", "main"],
    conditions: platform === "neutral" ? ["workerd", "worker", "import"] : ["node", "import"],
    packages: "external",
    external: ["cloudflare:*", "node:*"],
    logLevel: "silent",
  });
  const graph: Graph = new Map();
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    if (!own(file)) continue;
    // A dynamic import() runs after every module has initialized, so it cannot see one half-built.
    graph.set(
      file,
      input.imports.filter((i) => i.kind === "import-statement" && own(i.path)).map((i) => i.path),
    );
  }
  return graph;
}

describe("import cycles", () => {
  it("finds a cycle, and only a cycle", () => {
    const graph: Graph = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a", "d"]],
      ["d", []],
      ["e", ["e"]],
    ]);
    expect(importCycles(graph)).toEqual([["a", "b", "c"], ["e"]]);
    expect(
      importCycles(
        new Map([
          ["a", ["b"]],
          ["b", []],
        ]),
      ),
    ).toEqual([]);
  });

  it("the Worker has no runtime import cycle, in any of its modules (compat, durable, lib…)", async () => {
    // As wrangler bundles it: workerd's conditions, and the protocol it shares with the agent.
    const graph = await importGraph(["worker"], "neutral");
    // The graph is the real one: the entry reaches the relay and the services, and every module
    // under worker/ is in it, reached or not.
    expect(graph.get("worker/index.ts")).toContain("worker/durable/host-relay.ts");
    // `#protocol` imports resolve to the agent's protocol modules: a cycle through them counts too.
    expect(graph.get("worker/lib/relay.ts")).toContain("agent-relay/src/protocol.ts");
    for (const path of await sourceModules("worker")) expect(graph.has(path), path).toBe(true);
    expect(importCycles(graph)).toEqual([]);
  });

  it("the agent has no runtime import cycle, in any of its modules", async () => {
    const graph = await importGraph(["agent-relay/src"], "node");
    expect(graph.get("agent-relay/src/main.ts")).toContain("agent-relay/src/agent.ts");
    for (const path of await sourceModules("agent-relay/src")) expect(graph.has(path), path).toBe(true);
    expect(importCycles(graph)).toEqual([]);
  });
});
