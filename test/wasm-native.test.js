// The C parser outside wasm: the case table under ASan/UBSan (scalar and emulated-SIMD builds,
// each input right before an unreadable page), a bounded libFuzzer run comparing the two scan
// paths, and the two committed wasm modules compared on random inputs. These need clang; they
// skip with the reason when it is missing and fail when CI is set (.ci/run installs it).
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ROOT, requireTool } from "./harness.js";

const FUZZ_SECONDS = Number(process.env.PRONGHORN_FUZZ_SECONDS ?? (process.env.CI ? 60 : 10));

function run(cmd, args, timeoutMs) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8", timeout: timeoutMs });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} failed (${r.status ?? r.signal}):\n${out.slice(-4000)}`);
  return out;
}

test("native: every table case passes under ASan/UBSan, scalar and SIMD scans alike", { skip: requireTool("clang") }, () => {
  const out = run("bash", ["wasm/test/run-native.sh"], 300_000);
  const m = out.match(/native: (\d+) passed, (\d+) failed/);
  assert.ok(m, out);
  assert.equal(Number(m[2]), 0);
  assert.ok(Number(m[1]) > 1000, `only ${m[1]} native checks ran`);
  console.log(m[0]);
});

test(`fuzz: ${FUZZ_SECONDS} s of libFuzzer finds no over-read and no scalar/SIMD difference`, { skip: requireTool("clang") }, () => {
  const out = run("bash", ["wasm/test/fuzz.sh", String(FUZZ_SECONDS)], (FUZZ_SECONDS + 180) * 1000);
  const done = out.match(/Done (\d+) runs/);
  assert.ok(done, `fuzzer did not report its runs:\n${out.slice(-2000)}`);
  console.log(`fuzz: ${done[1]} runs in ${FUZZ_SECONDS} s`);
});

test("wasm: the SIMD and scalar modules agree on the table and on random inputs", () => {
  const out = run(process.execPath, ["wasm/test/check-wasm.mjs", "200000"], 300_000);
  console.log(out.trim().split("\n").slice(-2).join("\n"));
});
