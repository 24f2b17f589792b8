import { build } from "esbuild";
import { describe, expect, it } from "vitest";

// A runtime import cycle makes a module's top-level code see another's exports before they are
// initialized (issue 9: STALE_MIRROR_MS was NaN when the bundle started from the relay's side).
// esbuild resolves the Worker's graph as wrangler bundles it; with verbatimModuleSyntax an
// `import type` is the only import it drops, so what remains is what runs.

type Graph = Map<string, string[]>;

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

/** The Worker's static runtime imports among its own modules (and the protocol it shares). */
async function workerGraph(): Promise<Graph> {
  const result = await build({
    entryPoints: ["worker/index.ts"],
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "import"],
    external: ["cloudflare:*", "node:*"],
    logLevel: "silent",
  });
  const own = (path: string) => path.startsWith("worker/") || path.startsWith("agent-relay/");
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

  it("the Worker has no runtime import cycle", async () => {
    const graph = await workerGraph();
    // The graph is the real one: the entry reaches the relay and the services.
    expect(graph.get("worker/index.ts")).toContain("worker/durable/host-relay.ts");
    expect(graph.size).toBeGreaterThan(50);
    expect(importCycles(graph)).toEqual([]);
  });
});
