// The request fuzzer in CI mode: a bounded, seeded run against one server (one worker, short
// timeouts) on the runtime under test. The generator, the reference model and the invariants are
// in test/fuzz/http-fuzz.js (shared with scripts/fuzz.mjs, the long mode).
//
//   PRONGHORN_FUZZ_SEED   the run's seed (default: random, printed)
//   PRONGHORN_FUZZ_N      cases to run at most (default: as many as fit the time)
//   PRONGHORN_FUZZ_MS     time budget in ms (default 20000)
//
// A failure prints the seed, the case number, the invariant, the exact bytes and a reproducer
// file (replay it with `node scripts/fuzz.mjs --replay FILE`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { RUNTIME } from "./harness.js";
import { fuzz, summaryLine, model, generateCase, checkCase, fnv, LIMITS } from "./fuzz/http-fuzz.js";

const SEED = process.env.PRONGHORN_FUZZ_SEED ? Number(process.env.PRONGHORN_FUZZ_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const N = process.env.PRONGHORN_FUZZ_N ? Number(process.env.PRONGHORN_FUZZ_N) : Infinity;
const MS = process.env.PRONGHORN_FUZZ_MS ? Number(process.env.PRONGHORN_FUZZ_MS) : 20000;

test("the reference model frames the corpus's own rows as RFC 9112 does", () => {
  const H = "Host: t\r\n";
  const one = (text) => model(text).entries.map((e) => [e.method, e.body]);
  assert.deepEqual(one(`GET / HTTP/1.1\r\n${H}\r\nPOST / HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabcGET /x HTTP/1.1\r\n${H}\r\n`),
    [["GET", ""], ["POST", "abc"], ["GET", ""]]);
  assert.deepEqual(one(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;a=b\r\nabc\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`),
    [["POST", "abc"], ["GET", ""]]);
  // both framings: may be framed by Transfer-Encoding, nothing after
  assert.deepEqual(one(`POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`), [["POST", ""]]);
  // must be refused: nothing from there on
  for (const bad of [
    `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`,
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
    `POST / HTTP/1.1\r\n${H}Content-Length: \x0b3\r\n\r\nabc`,
    `GET / HTTP/1.1\r\n\r\n`,
    `GET / HTTP/2.0\r\n${H}\r\n`,
    `GET /a\x00 HTTP/1.1\r\n${H}\r\n`,
  ]) assert.deepEqual(one(bad), [], JSON.stringify(bad));
  // a malformed chunk: the request may be dispatched, its body never completes, nothing follows
  assert.deepEqual(one(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`), [["POST", null]]);
  // a bare CR is never a line end
  assert.deepEqual(one(`GET / HTTP/1.1\r\n${H}X: a\rContent-Length: 3\r\n\r\nabc`).length, 1);
  assert.equal(model(`GET / HTTP/1.1\r\n${H}X: a\rContent-Length: 3\r\n\r\nabc`).entries[0].body, "");
  // generation is a function of (seed, index)
  assert.deepEqual(generateCase(7, 3), generateCase(7, 3));
});

test("the checker flags each invariant it is meant to check", () => {
  const H = "Host: t\r\n";
  const ctx = { pid: 42, limits: LIMITS };
  const ok = (seq, extra = "") => `HTTP/1.1 200 OK\r\ncontent-length: 4\r\nx-fuzz-seq: ${seq}\r\nx-fuzz-pid: 42\r\n${extra}\r\nok ${seq}`;
  const err = (status) => `HTTP/1.1 ${status} X\r\ncontent-length: 4\r\nconnection: close\r\n\r\n${status}\n`;
  const rec = (seq, method, url, body) => ({ seq, method, url, body: body === undefined ? { len: 0, hash: fnv(Buffer.alloc(0)) } : body });
  const run = (text, res, c = {}) => {
    const m = model(text);
    return checkCase({ live: false, ...c }, m, { closedBy: "fin", pid: 42, ...res }, ctx).violations;
  };
  const two = `GET /Q00000001Q HTTP/1.1\r\n${H}\r\nGET /Q00000002Q HTTP/1.1\r\n${H}\r\n`;
  const recs2 = [rec(0, "GET", "http://t/Q00000001Q"), rec(1, "GET", "http://t/Q00000002Q")];
  assert.deepEqual(run(two, { received: ok(0) + ok(1), records: recs2 }), []);
  // (d) a request past what the framing allows
  const closing = `GET /Q00000001Q HTTP/1.1\r\n${H}Connection: close\r\n\r\nGET /Q00000002Q HTTP/1.1\r\n${H}\r\n`;
  assert.match(run(closing, { received: ok(0) + ok(1), records: recs2 }).join(), /\(d\) the app saw 2/);
  // (d) another target, another method, another body
  assert.match(run(two, { received: ok(0), records: [rec(0, "GET", "http://t/Q00000002Q")] }).join(), /\(d\) request 0: the app saw url/);
  assert.match(run(two, { received: ok(0), records: [rec(0, "POST", "http://t/Q00000001Q")] }).join(), /\(d\) request 0: the app saw method/);
  const post = `POST /Q00000001Q HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabc`;
  assert.deepEqual(run(post, { received: ok(0), records: [rec(0, "POST", "http://t/Q00000001Q", { len: 3, hash: fnv(Buffer.from("abc")) })] }), []);
  assert.match(run(post, { received: ok(0), records: [rec(0, "POST", "http://t/Q00000001Q", { len: 2, hash: 1 })] }).join(), /the app read a body of 2/);
  // (c) bytes after an error, an error that does not close
  assert.match(run(two, { received: err(400) + ok(1), records: [] }).join(), /\(b\) bytes after an error|\(c\)/);
  assert.match(run(two, { received: err(400), records: [], closedBy: "timeout" }).join(), /\(e\)/);
  // (b) malformed responses, a 100 nobody asked for
  assert.match(run(two, { received: "HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n", records: [] }).join(), /\(b\)/);
  assert.match(run(two, { received: "HTTP/1.1 100 Continue\r\n\r\n" + ok(0) + ok(1), records: recs2 }).join(), /100 Continue before the answer to request 0/);
  assert.match(run(two, { received: ok(0).slice(0, -2), records: recs2 }).join(), /incomplete response/);
  // (a) another pid
  assert.match(run(two, { received: ok(0) + ok(1), records: recs2, pid: 7 }).join(), /\(a\)/);
});

test(`fuzzing the request parser on ${RUNTIME}: invariants hold (seed ${SEED})`, async (t) => {
  console.log(`fuzz: PRONGHORN_FUZZ_SEED=${SEED} on ${RUNTIME}`);
  const stats = await fuzz({ runtime: RUNTIME, seed: SEED, n: N, durationMs: MS, concurrency: 8 });
  t.diagnostic(summaryLine(stats));
  for (const v of stats.violations) console.log(v.text);
  assert.equal(stats.violations.length, 0, stats.violations.map((v) => v.text).join("\n\n"));
  assert.ok(stats.cases > 0, "cases ran");
  assert.equal(stats.serverExit.code, 0, "the server stopped cleanly");
});
