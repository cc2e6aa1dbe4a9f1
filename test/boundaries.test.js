// STYLE.md §3, checked instead of remembered: who may import whom under src/. Reads every
// import and export-from specifier (static and dynamic) and fails on a forbidden edge.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "./harness.js";

const SRC = path.join(ROOT, "src");
const PROCESS_AND_SOCKETS = ["node:net", "node:child_process", "node:cluster", "node:dgram", "net", "child_process", "cluster"];

function sources(dir = SRC) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Every module specifier a file imports, resolved to a src-relative path when relative. */
function importsOf(file) {
  const text = fs.readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:^|\s)(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^import\s*["']([^"']+)["']/gm)]
    .map((m) => m[1] ?? m[2] ?? m[3]);
  return specs.map((s) => (s.startsWith(".") ? path.relative(SRC, path.resolve(path.dirname(file), s)).replace(/\.js$/, ".ts") : s));
}

const RULES = [
  ["only runtime/ touches sockets and processes", (from, to) => !from.startsWith("runtime/") && PROCESS_AND_SOCKETS.includes(to)],
  ["supervisor.ts knows nothing of HTTP", (from, to) => from === "supervisor.ts" && to.startsWith("http/")],
  ["supervisor.ts uses only the runtime interface and config", (from, to) => from === "supervisor.ts" && !["runtime/runtime.ts", "config.ts"].includes(to)],
  ["http/ knows nothing of processes or the supervisor", (from, to) => from.startsWith("http/") && (/^(supervisor|worker|cli|config)\.ts$/.test(to) || to === "node:child_process")],
  ["runtime/ does not reach into http/ or the policy", (from, to) => from.startsWith("runtime/") && /^(http\/|supervisor\.ts|worker\.ts|cli\.ts)/.test(to)],
  ["Bun and Deno are never imported as modules", (_from, to) => to === "bun" || to.startsWith("deno")],
];

test("the module boundaries of STYLE.md §3 hold under src/", () => {
  const files = sources();
  assert.ok(files.some((f) => f.endsWith("supervisor.ts")) && files.some((f) => f.endsWith(path.join("runtime", "node-process.ts"))));
  const violations = [];
  for (const file of files) {
    const from = path.relative(SRC, file);
    for (const to of importsOf(file)) {
      for (const [rule, broken] of RULES) if (broken(from, to)) violations.push(`${from} -> ${to}: ${rule}`);
    }
  }
  assert.deepEqual(violations, []);
});

test("the import scanner sees the imports it must check", () => {
  const imports = importsOf(path.join(SRC, "runtime", "node-process.ts"));
  assert.ok(imports.includes("node:child_process"));
  assert.ok(importsOf(path.join(SRC, "supervisor.ts")).includes("runtime/runtime.ts"));
});
