#!/usr/bin/env node
// The request fuzzer's long mode: the generator, reference model and invariants of
// test/http-fuzz.test.js (test/fuzz/http-fuzz.js), run until the time is up against one server
// on the chosen runtime, printing progress; stops at the first invariant violation and writes a
// reproducer (seed, case, exact bytes, delivery plan, what came back) to a temp dir.
//
//   node scripts/fuzz.mjs [--hours H | --minutes M | --seconds S] [--runtime node|bun|deno]
//                         [--seed N] [--concurrency C] [--keep-going] [--out DIR]
//   node scripts/fuzz.mjs --replay FILE [--times N] [--runtime R]
//
// Build dist/ first (npx tsc -p tsconfig.json). The server is restarted every --restart-minutes
// (default 30) so one run covers start-up states too; the case numbering continues.
import { parseArgs } from "node:util";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const { values: opt } = parseArgs({
  options: {
    hours: { type: "string" }, minutes: { type: "string" }, seconds: { type: "string" },
    runtime: { type: "string", default: process.env.PRONGHORN_TEST_RUNTIME || "node" },
    seed: { type: "string" }, concurrency: { type: "string", default: "8" },
    "keep-going": { type: "boolean", default: false }, out: { type: "string" },
    replay: { type: "string" }, times: { type: "string", default: "5" },
    "restart-minutes": { type: "string", default: "30" }, help: { type: "boolean", short: "h" },
  },
});
if (opt.help) {
  console.log(fs.readFileSync(new URL(import.meta.url), "utf8").split("\n").filter((l) => l.startsWith("//")).map((l) => l.slice(3)).join("\n"));
  process.exit(0);
}
// The harness reads the runtime from the environment when it is imported.
process.env.PRONGHORN_TEST_RUNTIME = opt.runtime;
const { fuzz, summaryLine, replay, describeFailure } = await import("../test/fuzz/http-fuzz.js");

if (opt.replay) {
  const { c, m, out, ctx } = await replay(opt.replay, { runtime: opt.runtime, times: Number(opt.times) });
  console.log(`replay of ${opt.replay} on ${ctx.runtime}: model allows ${m.entries.length} request(s) (${m.why})`);
  let bad = 0;
  for (const [i, { res, check }] of out.entries()) {
    console.log(`  #${i}: statuses ${check.statuses.join(",") || "none"}, ${res.records?.length ?? 0} dispatched, closed by ${res.closedBy}` +
      (check.violations.length ? `\n    ${check.violations.join("\n    ")}` : ""));
    if (check.violations.length) bad++;
  }
  if (bad) console.log(describeFailure(ctx, c, out.find((x) => x.check.violations.length).check));
  process.exit(bad ? 1 : 0);
}

const totalMs = opt.hours ? Number(opt.hours) * 3600e3 : opt.minutes ? Number(opt.minutes) * 60e3 : opt.seconds ? Number(opt.seconds) * 1e3 : 60e3;
const seed = opt.seed !== undefined ? Number(opt.seed) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const outDir = opt.out ?? fs.mkdtempSync(path.join(os.tmpdir(), "pronghorn-fuzz-"));
fs.mkdirSync(outDir, { recursive: true });
const restartMs = Number(opt["restart-minutes"]) * 60e3;
console.log(`fuzz: runtime ${opt.runtime}, seed ${seed}, ${(totalMs / 60e3).toFixed(1)} min, concurrency ${opt.concurrency}, reproducers in ${outDir}`);

const started = Date.now();
const total = { cases: 0, violations: 0 };
let index = 0;
let failed = false;
while (Date.now() - started < totalMs) {
  const budget = Math.min(restartMs, totalMs - (Date.now() - started));
  const base = { cases: total.cases };
  const stats = await fuzz({
    runtime: opt.runtime, seed, durationMs: budget, concurrency: Number(opt.concurrency), startIndex: index,
    reproDir: outDir, keepGoing: opt["keep-going"],
    onProgress: (s) => console.log(`  ${new Date().toISOString().slice(11, 19)} ${((Date.now() - started) / 60e3).toFixed(1)} min: ` +
      `${base.cases + s.cases} cases, ${s.dispatched} dispatched this server, ${s.violations.length} violation(s); ` +
      Object.entries(s.statuses).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, n]) => `${k}:${n}`).join(" ")),
    progressEveryMs: 30000,
  });
  console.log(summaryLine(stats));
  index += stats.cases;
  total.cases += stats.cases;
  total.violations += stats.violations.length;
  for (const v of stats.violations) console.log(v.text);
  if (stats.serverExit?.code !== 0) console.log(`fuzz: the server exited ${JSON.stringify(stats.serverExit)}`);
  if (stats.violations.length > 0 && !opt["keep-going"]) {
    failed = true;
    break;
  }
}
console.log(`fuzz: done, ${total.cases} cases in ${((Date.now() - started) / 60e3).toFixed(1)} min, ${total.violations} violation(s); seed ${seed}`);
process.exit(failed || total.violations ? 1 : 0);
