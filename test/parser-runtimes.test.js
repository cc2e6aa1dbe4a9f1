// test/parser.test.js is runtime-independent; this runs it under Bun (`bun test`) and Deno
// (`deno test -A`), whose node:test support registers and asserts the same tests (`bun run` and
// `deno run` would not run them at all: Bun refuses test() outside its runner, Deno silently
// registers nothing). It also checks, on all three runtimes, that PRONGHORN_NO_WASM_SIMD=1
// loads the scalar build. Needs `npm run build` (dist/) first, like every suite.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BIN = path.join(ROOT, "node_modules", ".bin");
const SUITE = path.join(ROOT, "test", "parser.test.js");
const PROBE = path.join(ROOT, "test", "fixtures", "parser-probe.js");
const CASES_FILE = path.join(ROOT, "wasm", "test", "cases.json");
// When the table is missing, parser.test.js fails on its own; here it only sets the minimum count.
const CASES = fs.existsSync(CASES_FILE) ? JSON.parse(fs.readFileSync(CASES_FILE, "utf8")) : [];

const RUNTIMES = {
  node: { bin: process.execPath, suite: null, run: [] },
  bun: { bin: path.join(BIN, "bun"), suite: ["test", SUITE], run: [] },
  deno: { bin: path.join(BIN, "deno"), suite: ["test", "-A", SUITE], run: ["run", "-A"] },
};

function run(bin, args, env = {}) {
  const r = spawnSync(bin, args, {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", ...env },
    encoding: "utf8",
    timeout: 180_000,
    maxBuffer: 64 * 1024 * 1024, // both print a line per test, and the table has thousands
  });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}`, error: r.error };
}

/** Skip when the runtime is not installed, fail instead under CI. */
function missing(t, name) {
  if (fs.existsSync(RUNTIMES[name].bin)) return false;
  const why = `${name} not installed at ${RUNTIMES[name].bin} (npm install puts it there)`;
  if (process.env.CI) assert.fail(why);
  t.skip(why);
  return true;
}

// Both print a summary; parse it so a runner that ran nothing cannot pass.
const SUMMARY = {
  bun: (out) => ({ pass: Number(out.match(/^\s*(\d+) pass$/m)?.[1]), fail: Number(out.match(/^\s*(\d+) fail$/m)?.[1]) }),
  deno: (out) => {
    const m = out.match(/\| (\d+) passed.*?\| (\d+) failed/);
    return { pass: Number(m?.[1]), fail: Number(m?.[2]) };
  },
};

for (const name of ["bun", "deno"]) {
  test(`the parser suite passes under ${name}, every case of the table run on both builds`, (t) => {
    if (missing(t, name)) return;
    const { bin, suite } = RUNTIMES[name];
    const r = run(bin, suite);
    assert.equal(r.error, undefined, `${name} did not run: ${r.error}`);
    const { pass, fail } = SUMMARY[name](r.output);
    assert.equal(r.status, 0, `${name} ${suite.join(" ")} exited ${r.status}:\n${r.output.slice(-4000)}`);
    assert.equal(fail, 0, r.output.slice(-4000));
    assert.ok(pass >= 2 * CASES.length + 15, `${name} ran only ${pass} tests:\n${r.output.slice(-2000)}`);
  });
}

for (const name of ["node", "bun", "deno"]) {
  test(`${name} loads the SIMD build by default and the scalar one with PRONGHORN_NO_WASM_SIMD=1`, (t) => {
    if (missing(t, name)) return;
    const { bin, run: pre } = RUNTIMES[name];
    for (const [env, simd] of [[{}, true], [{ PRONGHORN_NO_WASM_SIMD: "1" }, false]]) {
      const r = run(bin, [...pre, PROBE], env);
      assert.equal(r.status, 0, `${name} ${PROBE} exited ${r.status}:\n${r.output}`);
      const line = r.output.split("\n").find((l) => l.startsWith("{"));
      assert.deepEqual(JSON.parse(line), { simd, ret: 32, target: "/probe" }, r.output);
    }
  });
}
