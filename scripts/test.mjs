#!/usr/bin/env node
// The test driver behind `npm test` (after tsc): one suite, every runtime.
//
//   unit     the runtime-independent and in-process suites, once, on the Node running this script
//            (the parser and its oracle, the native/fuzz checks, module boundaries, the supervisor
//            and connection tables against fakes)
//   node     the black-box suites (real servers, test/harness.js) on the Node running this script
//   node-26  the whole suite but the native checks, with .runtimes/node-26/bin/node as the test
//            runner, so the servers and the in-process suites both run on the current LTS line
//   node-24  the black-box suites on .runtimes/node-24/bin/node (the previous LTS line) with
//            PRONGHORN_NO_DIRECT_HANDLE=1: every connection through net.Socket, the fallback of
//            the direct handle path (src/runtime/node-handle.ts) that the other Node passes take
//   bun      the in-process tables under `bun test`, then the black-box suites with every server
//            started as `bun dist/cli.js` (PRONGHORN_TEST_RUNTIME=bun)
//   deno     the same under `deno test -A` and `deno run -A dist/cli.js`
//
// PRONGHORN_TEST_RUNTIMES=unit,node,bun selects passes (default: all of them, in that order);
// file arguments (`node scripts/test.mjs test/cli.test.js`) narrow every pass to those files.
// A Node line missing from .runtimes/ is installed with scripts/install-node-lines.sh; a runtime
// that is still missing skips its pass with the reason printed, or fails it when CI is set (as
// test/harness.js requireTool does for system tools). Prints what each pass ran and its counts,
// then one last line `tests: N passed, N failed, N skipped` over every pass; exits 1 if any
// pass failed.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TEST = path.join(ROOT, "test");
const BIN = path.join(ROOT, "node_modules", ".bin");
const CI = Boolean(process.env.CI);
/** A pass still running after this is killed and failed (CI has 90 minutes for everything). */
const PASS_TIMEOUT_MS = Number(process.env.PRONGHORN_TEST_PASS_TIMEOUT_MS ?? 20 * 60_000);
/** Per test in the black-box passes, so a server that never comes up cannot hang a pass. Node 20
 *  applies --test-timeout to each file as a whole too, so this bounds a file (ops-adversarial
 *  takes about 70 s on Node). */
const TEST_TIMEOUT_MS = 300_000;

// ---------------------------------------------------------------------------------------------
// Which file is which. Black-box files start real servers through test/harness.js and take the
// runtime from PRONGHORN_TEST_RUNTIME; native files test the C parser outside any JS runtime;
// every other test file is in-process JS (it imports dist/ and fakes the rest).
// ---------------------------------------------------------------------------------------------
const ALL = fs.readdirSync(TEST).filter((f) => f.endsWith(".test.js")).sort();
const BLACK_BOX = ALL.filter((f) => /^(cli|serve-api|app-[\w-]+|http-[\w-]+|ops-[\w-]+|parser-runtimes)\.test\.js$/.test(f));
const NATIVE = ALL.filter((f) => f === "wasm-native.test.js");
const IN_PROCESS = ALL.filter((f) => !BLACK_BOX.includes(f) && !NATIVE.includes(f));
/** The in-process tables that also run under `bun test` and `deno test -A`. */
const TABLES = ["parser.test.js", "connection.test.js", "supervisor.test.js", "worker.test.js"].filter((f) => ALL.includes(f));

const nodeLine = (major) => path.join(ROOT, ".runtimes", `node-${major}`, "bin", "node");

const PASSES = {
  unit: { what: "runtime-independent and in-process suites", runner: () => process.execPath, groups: [
    { label: "in-process tables", files: TABLES, reference: true },
    { label: "other in-process and native suites", files: [...IN_PROCESS.filter((f) => !TABLES.includes(f)), ...NATIVE] },
  ] },
  node: { what: "black-box suites, servers on this Node", runner: () => process.execPath, runtime: "node", groups: [{ label: "black-box", files: BLACK_BOX }] },
  "node-26": { what: "the whole suite but the native checks, runner and servers on Node 26", runner: () => nodeLine(26), major: 26, runtime: "node", groups: [
    { label: "in-process", files: IN_PROCESS },
    { label: "black-box", files: BLACK_BOX },
  ] },
  "node-24": { what: "black-box suites, runner and servers on Node 24, net.Socket forced (PRONGHORN_NO_DIRECT_HANDLE=1)", runner: () => nodeLine(24), major: 24, runtime: "node",
    env: { PRONGHORN_NO_DIRECT_HANDLE: "1" }, groups: [{ label: "black-box", files: BLACK_BOX }] },
  bun: { what: "in-process tables under bun test, black-box suites with servers on bun", runner: () => process.execPath, runtime: "bun", groups: [
    { label: "bun test", files: TABLES, native: "bun" },
    { label: "black-box", files: BLACK_BOX },
  ] },
  deno: { what: "in-process tables under deno test -A, black-box suites with servers on deno run -A", runner: () => process.execPath, runtime: "deno", groups: [
    { label: "deno test -A", files: TABLES, native: "deno" },
    { label: "black-box", files: BLACK_BOX },
  ] },
};

function selection() {
  const env = process.env.PRONGHORN_TEST_RUNTIMES;
  const names = env ? env.split(",").map((s) => s.trim()).filter(Boolean) : Object.keys(PASSES);
  const unknown = names.filter((n) => !PASSES[n]);
  if (unknown.length) {
    console.error(`test: PRONGHORN_TEST_RUNTIMES: unknown pass ${unknown.join(", ")} (known: ${Object.keys(PASSES).join(", ")})`);
    process.exit(2);
  }
  const only = process.argv.slice(2).map((f) => path.basename(f));
  const missing = only.filter((f) => !ALL.includes(f));
  if (missing.length) {
    console.error(`test: no such test file: ${missing.join(", ")}`);
    process.exit(2);
  }
  return { names, only };
}

// ---------------------------------------------------------------------------------------------
// Running one group of files and counting what it did.
// ---------------------------------------------------------------------------------------------

/** Run `cmd args`, output to our stdout (when `echo`) and into the returned text; killed after the pass timeout. */
function run(cmd, args, { env = {}, echo = true, deadline }) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    current = child;
    let text = "";
    const take = (stream, out) => stream.on("data", (c) => {
      text += c;
      if (echo) out.write(c);
    });
    take(child.stdout, process.stdout);
    take(child.stderr, process.stderr);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, Math.max(1000, deadline - Date.now()));
    child.on("error", (err) => (text += `\n${cmd}: ${err.message}\n`));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      current = null;
      resolve({ code, signal, text, timedOut });
    });
  });
}

let current = null;
function killGroup(child) {
  try {
    process.kill(-child.pid, "SIGKILL"); // the runner and every server it started
  } catch {
    // already gone
  }
}
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    if (current) killGroup(current);
    process.exit(130);
  });
}

/** node --test over `files` with `runner`; counts from its TAP reporter (written to a file beside the spec output). */
async function nodeTest(runner, files, { env, deadline, testTimeout }) {
  const tap = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pronghorn-test-")), "results.tap");
  const args = [
    "--test", "--test-concurrency=1",
    ...(testTimeout ? [`--test-timeout=${testTimeout}`] : []),
    "--test-reporter=spec", "--test-reporter-destination=stdout",
    "--test-reporter=tap", `--test-reporter-destination=${tap}`,
    ...files.map((f) => path.join("test", f)),
  ];
  const r = await run(runner, args, { env, deadline });
  const report = fs.existsSync(tap) ? fs.readFileSync(tap, "utf8") : "";
  const last = (name) => {
    const all = [...report.matchAll(new RegExp(`^# ${name} (\\d+)$`, "gm"))];
    return all.length ? Number(all[all.length - 1][1]) : null;
  };
  const pass = last("pass");
  const fail = last("fail");
  if (pass === null || fail === null) {
    return { pass: pass ?? 0, fail: 1, skip: 0, note: `${path.basename(runner)} --test printed no totals (exit ${r.code ?? r.signal}${r.timedOut ? ", killed at the pass timeout" : ""})` };
  }
  const counts = { pass, fail: fail + (last("cancelled") ?? 0), skip: last("skipped") ?? 0 };
  if (r.timedOut) return { ...counts, fail: counts.fail + 1, note: "killed at the pass timeout" };
  if (r.code !== 0 && counts.fail === 0) return { ...counts, fail: 1, note: `exited ${r.code ?? r.signal} with no failed test` };
  return counts;
}

/** `bun test` / `deno test -A` over `files`; counts from their own summaries. */
async function nativeTest(runtime, files, { deadline }) {
  const bin = path.join(BIN, runtime);
  const abs = files.map((f) => path.join(TEST, f)); // bun test takes bare words as name filters
  const args = runtime === "bun" ? ["test", ...abs] : ["test", "-A", ...abs];
  console.log(`$ ${runtime} ${args.map((a) => path.relative(ROOT, a) || a).join(" ")}`);
  // A line per test (the parser table has thousands): kept in a log, shown only on failure.
  const r = await run(bin, args, { env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" }, echo: false, deadline });
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pronghorn-test-")), `${runtime}-test.log`);
  fs.writeFileSync(log, r.text);
  let counts = null;
  if (runtime === "bun") {
    const n = (word) => Number(r.text.match(new RegExp(`^\\s*(\\d+) ${word}$`, "m"))?.[1] ?? 0);
    if (/^\s*\d+ pass$/m.test(r.text)) counts = { pass: n("pass"), fail: n("fail"), skip: n("skip") + n("todo") };
  } else {
    const m = r.text.match(/^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(?: \(\d+ steps?\))?(?: \| (\d+) ignored)?/m);
    if (m) counts = { pass: Number(m[1]), fail: Number(m[2]), skip: Number(m[3] ?? 0) };
  }
  const failed = !counts || counts.fail > 0 || r.code !== 0;
  const tail = r.text.split("\n").filter((l) => /\bpass$|\bfail$|\bskip$|passed \||^Ran /.test(l.trim())).join("\n");
  console.log(failed ? r.text.slice(-20000) : tail);
  console.log(`(full ${runtime} test output: ${log})`);
  if (!counts) return { pass: 0, fail: 1, skip: 0, note: `${runtime} test printed no totals (exit ${r.code ?? r.signal}${r.timedOut ? ", killed at the pass timeout" : ""})` };
  if (r.code !== 0 && counts.fail === 0) return { ...counts, fail: 1, note: `${runtime} test exited ${r.code ?? r.signal} with no failed test` };
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Runtimes: present, installed on demand, or skipped (failed under CI).
// ---------------------------------------------------------------------------------------------

function version(bin, args = ["--version"]) {
  const r = spawnSync(bin, args, { encoding: "utf8", env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" } });
  return (r.stdout ?? "").split("\n")[0].trim();
}

/** The binaries a pass needs, installing a missing Node line; a reason string when one is still missing. */
function ensure(pass) {
  const needed = [pass.runner()];
  if (pass.runtime === "bun" || pass.runtime === "deno") needed.push(path.join(BIN, pass.runtime));
  if (pass.major && !fs.existsSync(pass.runner())) {
    console.log(`$ bash scripts/install-node-lines.sh ${pass.major}`);
    spawnSync("bash", [path.join(ROOT, "scripts", "install-node-lines.sh"), String(pass.major)], { cwd: ROOT, stdio: "inherit" });
  }
  const missing = needed.filter((b) => !fs.existsSync(b));
  if (!missing.length) return null;
  const how = pass.major ? "scripts/install-node-lines.sh did not install it" : "npm install puts it there";
  return `${missing.map((b) => path.relative(ROOT, b)).join(", ")} missing (${how})`;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const { names, only } = selection();
  const started = Date.now();
  const results = [];
  let referenceTables = null; // how many tests node registered for TABLES (the unit pass)
  for (const name of names) {
    const pass = PASSES[name];
    const groups = pass.groups.map((g) => ({ ...g, files: only.length ? g.files.filter((f) => only.includes(f)) : g.files })).filter((g) => g.files.length);
    if (!groups.length) continue;
    console.log(`\n======== pass ${name}: ${pass.what}`);
    const why = ensure(pass);
    if (why) {
      if (CI) {
        console.log(`pass ${name} FAILED: ${why}; CI must install every runtime (.ci/run)`);
        results.push({ name, pass: 0, fail: 1, skip: 0, ms: 0, notes: [why] });
      } else {
        console.log(`pass ${name} SKIPPED: ${why}`);
        results.push({ name, skipped: why });
      }
      continue;
    }
    const runner = pass.runner();
    const server = pass.runtime === "bun" ? `bun ${version(path.join(BIN, "bun"))}` : pass.runtime === "deno" ? version(path.join(BIN, "deno")) : `node ${version(runner)}`;
    const shown = runner.startsWith(ROOT + path.sep) ? path.relative(ROOT, runner) : runner;
    console.log(`runner: node ${version(runner)} (${shown})${pass.runtime ? `; servers: ${server} (PRONGHORN_TEST_RUNTIME=${pass.runtime})` : ""}`);
    const t0 = Date.now();
    const deadline = t0 + PASS_TIMEOUT_MS;
    const total = { name, pass: 0, fail: 0, skip: 0, notes: [] };
    for (const g of groups) {
      console.log(`\n---- ${name} / ${g.label}: ${g.files.join(" ")}`);
      const env = { ...pass.env, ...(pass.runtime ? { PRONGHORN_TEST_RUNTIME: pass.runtime } : {}) };
      const r = g.native
        ? await nativeTest(g.native, g.files, { deadline })
        : await nodeTest(runner, g.files, { env, deadline, testTimeout: g.label === "black-box" ? TEST_TIMEOUT_MS : 0 });
      if (g.reference && !only.length) referenceTables = r.pass + r.fail + r.skip;
      if (g.native && referenceTables !== null && r.pass + r.fail + r.skip !== referenceTables) {
        r.fail += 1;
        r.note = `${g.native} test ran ${r.pass + r.fail - 1 + r.skip} tests, node --test ran ${referenceTables} from the same files`;
      }
      console.log(`---- ${name} / ${g.label}: ${r.pass} passed, ${r.fail} failed, ${r.skip} skipped${r.note ? ` (${r.note})` : ""}`);
      total.pass += r.pass;
      total.fail += r.fail;
      total.skip += r.skip;
      if (r.note) total.notes.push(`${g.label}: ${r.note}`);
    }
    total.ms = Date.now() - t0;
    results.push(total);
    console.log(`======== pass ${name}: ${total.pass} passed, ${total.fail} failed, ${total.skip} skipped in ${Math.round(total.ms / 1000)} s`);
  }

  console.log(`\nall passes (${Math.round((Date.now() - started) / 1000)} s):`);
  for (const r of results) {
    if (r.skipped) console.log(`  ${r.name.padEnd(8)} skipped: ${r.skipped}`);
    else console.log(`  ${r.name.padEnd(8)} ${r.fail ? "FAILED" : "ok    "} ${r.pass} passed, ${r.fail} failed, ${r.skip} skipped in ${Math.round(r.ms / 1000)} s${r.notes.length ? ` (${r.notes.join("; ")})` : ""}`);
  }
  const sum = (k) => results.reduce((n, r) => n + (r[k] ?? 0), 0);
  const ranAny = results.some((r) => !r.skipped);
  console.log(`tests: ${sum("pass")} passed, ${sum("fail")} failed, ${sum("skip")} skipped`);
  process.exitCode = sum("fail") > 0 || !ranAny ? 1 : 0;
}

await main();
