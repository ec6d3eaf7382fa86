// The documents' links and the files they name exist (documents moved or renamed leave no dead
// references behind).

import { deepEqual } from "node:assert/strict";

const root = new URL("../", import.meta.url);
const docs = ["README.md", "ARCHITECTURE.md", "BENCHMARKS.md", "testdata/README.md"];
for (const e of Deno.readDirSync(new URL("docs/", root))) {
  if (e.name.endsWith(".md")) docs.push(`docs/${e.name}`);
}

Deno.test("every relative link of README.md, docs/, ARCHITECTURE.md and BENCHMARKS.md resolves", () => {
  const dead: string[] = [];
  for (const doc of docs) {
    const text = Deno.readTextFileSync(new URL(doc, root));
    const dir = new URL(doc.includes("/") ? doc.slice(0, doc.lastIndexOf("/") + 1) : "", root);
    for (const m of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
      try {
        Deno.statSync(new URL(target, dir));
      } catch {
        dead.push(`${doc}: ${target}`);
      }
    }
  }
  deepEqual(dead, []);
});

Deno.test("the source files and tests the documents name in backquotes exist", () => {
  const dead: string[] = [];
  for (const doc of docs) {
    const text = Deno.readTextFileSync(new URL(doc, root));
    for (const m of text.matchAll(/`((?:src|tests|bench|scripts)\/[\w./-]+\.(?:ts|py))`/g)) {
      if (/[A-Z]{3}/.test(m[1])) continue; // a placeholder, as `src/outputs/NAME.ts`
      try {
        Deno.statSync(new URL(m[1], root));
      } catch {
        dead.push(`${doc}: ${m[1]}`);
      }
    }
  }
  deepEqual(dead, []);
});
