// The runtime seam, checked instead of remembered: who may import whom under src/, and which
// runtime-specific names may appear where. Imports are read from every import and export-from
// specifier (static and dynamic); names from the code with its comments removed.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
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

/** The code of a file without its comments (block comments, and line comments not inside a URL). */
function codeOf(file) {
  return fs.readFileSync(file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

/** The files that must be runtime-neutral: the HTTP layer and the process policy. */
const NEUTRAL = (from) => from.startsWith("http/") || from === "supervisor.ts" || from === "worker.ts" || from === "status.ts";

const IMPORT_RULES = [
  ["only runtime/ touches sockets and processes", (from, to) => !from.startsWith("runtime/") && (PROCESS_AND_SOCKETS.includes(to) || to.startsWith("bun:"))],
  ["supervisor.ts knows nothing of HTTP", (from, to) => from === "supervisor.ts" && to.startsWith("http/")],
  ["supervisor.ts uses only the runtime interface and config", (from, to) => from === "supervisor.ts" && !["runtime/runtime.ts", "config.ts"].includes(to)],
  ["worker.ts reaches the runtime only through its interface", (from, to) => from === "worker.ts" && to.startsWith("runtime/") && to !== "runtime/runtime.ts"],
  ["http/ knows nothing of processes or the supervisor", (from, to) => from.startsWith("http/") && (/^(supervisor|worker|cli|config|app)\.ts$/.test(to) || to === "node:child_process")],
  ["http/ uses of runtime/ only the interface and the byte codecs", (from, to) => from.startsWith("http/") && to.startsWith("runtime/") && !["runtime/runtime.ts", "runtime/bytes.ts"].includes(to)],
  ["http/ imports no node: module (runtime/bytes.ts wraps node:buffer)", (from, to) => from.startsWith("http/") && to.startsWith("node:")],
  ["runtime/ does not reach into http/ or the policy", (from, to) => from.startsWith("runtime/") && /^(http\/|supervisor\.ts|worker\.ts|cli\.ts|app\.ts|config\.ts)/.test(to)],
  ["Bun and Deno are never imported as modules", (_from, to) => to === "bun" || to.startsWith("deno")],
];

const NAME_RULES = [
  ["the process global belongs to the runtime", NEUTRAL, /\bprocess\s*\.|\bprocess\s*\?\./],
  ["Bun's API belongs to runtime/bun*.ts", (from) => !/^runtime\/bun[\w-]*\.ts$/.test(from), /\bBun\s*\.(?!\w*\s*===)/],
  ["Deno's API belongs to runtime/deno*.ts", (from) => !/^runtime\/deno[\w-]*\.ts$/.test(from), /\bDeno\s*\./],
  ["timers come from the runtime's Clock", NEUTRAL, /\b(setTimeout|setInterval|setImmediate|clearTimeout|clearInterval|performance\.now)\b/],
  ["Buffer belongs to the runtime (runtime/bytes.ts)", NEUTRAL, /\bBuffer\b/],
  // The Date header is wall-clock time; every deadline is on the runtime's monotonic clock.
  ["deadlines use the runtime's clock", (from) => NEUTRAL(from) && from !== "http/date.ts", /\bDate\.now\b/],
  ["environment switches travel in Config", (from) => from !== "config.ts", /\benv\s*(\.|\[)\s*["']?PRONGHORN_(NO_|NATIVE)/],
  ["listeners reach a worker as runtime-defined targets, not fd numbers", NEUTRAL, /\bfd\b|\bfds\b/],
  ["undici's internals belong to the runtime", NEUTRAL, /description\s*===\s*["']state["']/],
  ["the supervisor and the worker each use only their half of the runtime", (from) => from === "supervisor.ts" || from === "worker.ts", /\bRuntime\b(?!\w)/],
];

test("the module boundaries hold under src/", () => {
  const files = sources();
  assert.ok(files.some((f) => f.endsWith("supervisor.ts")) && files.some((f) => f.endsWith(path.join("runtime", "node-supervisor.ts"))));
  const violations = [];
  for (const file of files) {
    const from = path.relative(SRC, file);
    for (const to of importsOf(file)) {
      for (const [rule, broken] of IMPORT_RULES) if (broken(from, to)) violations.push(`${from} -> ${to}: ${rule}`);
    }
  }
  assert.deepEqual(violations, []);
});

test("runtime-specific names appear only under src/runtime/", () => {
  const violations = [];
  for (const file of sources()) {
    const from = path.relative(SRC, file);
    const lines = codeOf(file).split("\n");
    for (const [rule, applies, re] of NAME_RULES) {
      if (!applies(from)) continue;
      lines.forEach((line, i) => {
        if (re.test(line)) violations.push(`${from}:${i + 1}: ${rule}: ${line.trim()}`);
      });
    }
  }
  assert.deepEqual(violations, []);
});

test("the scanners see what they must check", () => {
  assert.ok(importsOf(path.join(SRC, "runtime", "node-supervisor.ts")).includes("node:child_process"));
  assert.ok(importsOf(path.join(SRC, "supervisor.ts")).includes("runtime/runtime.ts"));
  // The name rules fire on code and not on comments.
  const code = codeOf(path.join(SRC, "runtime", "process-host.ts"));
  assert.match(code, /setInterval/);
  assert.doesNotMatch(codeOf(path.join(SRC, "http", "server.ts")), /^\s*\*/m);
  const rule = NAME_RULES.find(([name]) => name.startsWith("timers"))[2];
  assert.ok(rule.test("const t = setInterval(f, 10);") && !rule.test("const t = clock.every(10, f);"));
});

/** The first import cycle found among `files` (src-relative paths), as a path, or null. */
function findCycle(files) {
  const graph = new Map(files.map((f) => [path.relative(SRC, f), importsOf(f).filter((to) => to.endsWith(".ts"))]));
  const state = new Map(); // 1 on the current path, 2 done
  const stack = [];
  const visit = (node) => {
    if (state.get(node) === 2) return null;
    if (state.get(node) === 1) return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 1);
    stack.push(node);
    for (const to of graph.get(node) ?? []) {
      const cycle = visit(to);
      if (cycle !== null) return cycle;
    }
    stack.pop();
    state.set(node, 2);
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle !== null) return cycle;
  }
  return null;
}

// A cycle, even through `import type`, means two modules each need the other: one of them holds
// a contract that belongs in a module of its own, or the dependency should point the other way.
test("no import cycle among src/ files, type-only imports included", () => {
  const cycle = findCycle(sources());
  assert.equal(cycle, null, `import cycle: ${cycle?.join(" -> ")}`);
});

test("the cycle check sees type-only imports and finds a cycle", () => {
  assert.ok(importsOf(path.join(SRC, "index.ts")).some((to) => to.startsWith("http/")), "index.ts's `import type` from http/ is read");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pronghorn-cycle-check-"));
  try {
    fs.writeFileSync(path.join(dir, "a.ts"), 'import type { B } from "./b.js";\nexport type A = B;\n');
    fs.writeFileSync(path.join(dir, "b.ts"), 'import { type A } from "./a.js";\nexport type B = A;\n');
    const cycle = findCycle([path.join(dir, "a.ts"), path.join(dir, "b.ts")]);
    assert.deepEqual(cycle?.map((p) => path.basename(p)), ["a.ts", "b.ts", "a.ts"]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
