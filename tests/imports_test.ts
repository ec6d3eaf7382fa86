// The module graph of src/: no import cycles anywhere, and data flows one way between layers
// (decoding never reaches into capture, the library's stages never into the command line).

import { deepEqual, ok } from "node:assert/strict";

const root = new URL("../src/", import.meta.url);

function files(dir: URL): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory) out.push(...files(new URL(`${e.name}/`, dir)).map((f) => `${e.name}/${f}`));
    else if (e.name.endsWith(".ts")) out.push(e.name);
  }
  return out;
}

// Relative imports of a module: static, re-exports, dynamic `import("…")` and workers'
// `new URL("…", import.meta.url)`.
function imports(path: string): string[] {
  // Without comments: doc examples import their own module.
  const text = Deno.readTextFileSync(new URL(path, root)).replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
  const out = new Set<string>();
  const re = /(?:from\s+|import\s*\(\s*|new URL\(\s*)"(\.{1,2}\/[^"]+\.ts)"/g;
  for (const m of text.matchAll(re)) {
    const parts = (dir + m[1]).split("/");
    const norm: string[] = [];
    for (const p of parts) {
      if (p === "..") norm.pop();
      else if (p !== ".") norm.push(p);
    }
    out.add(norm.join("/"));
  }
  return [...out];
}

const graph = new Map(files(root).map((f) => [f, imports(f)]));

Deno.test("src/ has no import cycles", () => {
  const cycles: string[] = [];
  const state = new Map<string, 1 | 2>(); // 1: on the current path, 2: done
  const path: string[] = [];
  const visit = (f: string) => {
    state.set(f, 1);
    path.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === 1) cycles.push([...path.slice(path.indexOf(g)), g].join(" → "));
      else if (!state.has(g)) visit(g);
    }
    path.pop();
    state.set(f, 2);
  };
  for (const f of [...graph.keys()].sort()) if (!state.has(f)) visit(f);
  deepEqual(cycles, []);
});

Deno.test("layers import one way: decode not from capture, library stages not from cli", () => {
  const wrong: string[] = [];
  for (const [f, deps] of graph) {
    for (const d of deps) {
      if (f.startsWith("decode/") && d.startsWith("capture/")) wrong.push(`${f} → ${d}`);
      if (!f.startsWith("cli/") && d.startsWith("cli/")) wrong.push(`${f} → ${d}`);
    }
  }
  deepEqual(wrong, []);
});

Deno.test("every Worker module is embedded by deno compile (INCLUDES of the entries)", async () => {
  const { INCLUDES } = await import("../src/cli/permissions.ts");
  const listed = new Set(Object.values(INCLUDES).flat().map((p) => p.replace(/^src\//, "")));
  const workers: string[] = [];
  for (const f of graph.keys()) {
    const text = Deno.readTextFileSync(new URL(f, root));
    for (const m of text.matchAll(/new Worker\(\s*new URL\("(\.{1,2}\/[^"]+\.ts)"/g)) {
      const dir = f.includes("/") ? f.slice(0, f.lastIndexOf("/") + 1) : "";
      const norm: string[] = [];
      for (const p of (dir + m[1]).split("/")) {
        if (p === "..") norm.pop();
        else if (p !== ".") norm.push(p);
      }
      workers.push(norm.join("/"));
    }
  }
  deepEqual(workers.filter((w) => !listed.has(w)), []);
  ok(workers.includes("cli/_map_worker.ts"));
});

// What each command and the capture worker load before their first line runs: node:zlib alone
// takes 30–45 ms to start (Deno's Node layer), node:crypto ~6 ms, the npm packages more; the
// capture worker's start is on the way to the first packet. They are imported where needed.
Deno.test("the commands and the capture worker start without node: built-ins or npm packages", async () => {
  const loaded: string[] = [];
  for (
    const entry of [
      "cli/parse_main.ts",
      "cli/count_main.ts",
      "cli/timeseries_main.ts",
      "capture/_capture_worker.ts",
    ]
  ) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", new URL(entry, root).pathname],
      stdout: "piped",
      stderr: "null",
    }).output();
    ok(out.success, `deno info ${entry}`);
    type Dep = { code?: { specifier: string }; isDynamic?: boolean };
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      roots: string[];
      modules: { specifier: string; dependencies?: Dep[] }[];
    };
    const deps = new Map(info.modules.map((m) => [m.specifier, m.dependencies ?? []]));
    // Static imports only (type-only imports are not `code`).
    const seen = new Set<string>();
    const todo = [info.roots[0]];
    while (todo.length > 0) {
      const s = todo.pop()!;
      if (seen.has(s)) continue;
      seen.add(s);
      for (const d of deps.get(s) ?? []) if (d.code && !d.isDynamic) todo.push(d.code.specifier);
    }
    ok(seen.size > 10, `${entry}: ${seen.size} modules`);
    for (const s of seen) if (!s.startsWith("file:")) loaded.push(`${entry}: ${s}`);
  }
  deepEqual(loaded, []);
});
