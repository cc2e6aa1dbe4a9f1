// Which parser build the runtime under test loads (PRONGHORN_TEST_RUNTIME, see harness.js): the
// SIMD one by default, the scalar one with PRONGHORN_NO_WASM_SIMD=1, and either parses. The
// parser's own suite (test/parser.test.js) is runtime-independent; scripts/test.mjs runs it, with
// the other in-process tables, under `bun test` and `deno test -A` as well as under each Node line.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { ROOT, RUNTIME, runCli } from "./harness.js";

const PROBE = path.join(ROOT, "test", "fixtures", "parser-probe.js");

test(`${RUNTIME} loads the SIMD build by default and the scalar one with PRONGHORN_NO_WASM_SIMD=1`, async () => {
  for (const [env, simd] of [[{}, true], [{ PRONGHORN_NO_WASM_SIMD: "1" }, false]]) {
    const r = await runCli([], { script: PROBE, env, timeoutMs: 60000 });
    assert.equal(r.code, 0, `${RUNTIME} ${PROBE} exited ${r.code ?? r.signal}:\n${r.out}`);
    const line = r.stdout.split("\n").find((l) => l.startsWith("{"));
    assert.deepEqual(JSON.parse(line), { simd, ret: 32, target: "/probe" }, r.out);
  }
});
