// What the app gets wrong, black-box over raw sockets: a handler that throws or rejects (sync or
// async, with values that are not Errors), returns something that is not a Response, a
// Response.error(), a Response whose body is locked or already read, header values or a
// statusText that cannot go out as HTTP/1.1 bytes, headers whose getters throw. Each gets a 500
// (with the stack only under -E development) and the error in the log, and the worker and the
// connection live on. A response stream that fails after its head went out resets the connection:
// the cut body never looks whole.
//
// Two servers: `counted` runs the counting app (http-app.js), whose rows state the final statuses
// and app calls (countedRows), and `plain` the plain app.
import { test } from "node:test";
import assert from "node:assert/strict";
import { serversForFile, startApp, exchange, responses, startCountingApp, TABLE_LIMITS, countedRows, H } from "./http-app.js";
import { rawExchange, waitForOutput, connect } from "./harness.js";

const servers = serversForFile({ plain: () => startApp(), counted: () => startCountingApp(TABLE_LIMITS) });

// A 500, then the request behind it on the same connection is served.
countedRows([
  ["Response.error()", `GET /error HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["a non-Response", `GET /nonresponse HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["a synchronous throw", `GET /throw HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["a rejection", `GET /reject HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["a header value past U+00FF", `GET /utf8-header HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["a statusText with CRLF", `GET /status-text HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  // the platform's own Responses are not mistakes
  ["Response.redirect", `GET /redirect HTTP/1.1\r\n${H}\r\n`, [301, 200], 2],
  ["Response.json", `GET /json HTTP/1.1\r\n${H}\r\n`, [201, 200], 2],
  // app code the server runs while reading the response: a throw there is the app failing
  ["a Response with a locked body stream", `GET /locked HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["a Response whose body was already read", `GET /used HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["a header getter that throws", `GET /header-getter HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["a Proxy of a Response", `GET /proxy HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["a non-Response whose constructor getter throws", `GET /ctor-getter HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["sync: a thenable whose then() throws", `GET /sync/thenable-throws HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["sync: a thrown object without a prototype", `GET /sync/throw-null-proto HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["sync: a rejection with an object without a prototype", `GET /sync/reject-null-proto HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["sync: a thrown Proxy whose every trap throws", `GET /sync/throw-proxy HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["sync: a Response with a locked body stream", `GET /sync/locked HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["sync: a header getter that throws", `GET /sync/header-getter HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
], () => servers.counted);

test("an app that throws or returns a non-Response gets a 500 and the worker keeps serving", async () => {
  const r = await exchange(servers.plain, "GET /throw HTTP/1.1\r\nHost: t\r\n\r\nGET /nonresponse HTTP/1.1\r\nHost: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n", { until: responses(3) });
  assert.deepEqual(r.responses.map((x) => x.status), [500, 500, 200]);
  assert.doesNotMatch(r.responses[0].body, /boom/, "no stack outside development");
  // The log line may reach us after the responses (a worker's stderr is not ordered with its sockets).
  await waitForOutput(servers.plain, /boom from the app/, 5000);
});

test("-E development puts the stack in the 500 and logs each request", async () => {
  const dev = await startApp(["-E", "development"]);
  try {
    const r = await exchange(dev, "GET /throw HTTP/1.1\r\nHost: t\r\nUser-Agent: t/1\r\nConnection: close\r\n\r\n");
    assert.equal(r.responses[0].status, 500);
    assert.match(r.responses[0].body, /boom from the app/);
    await exchange(dev, "GET /hello?q=1 HTTP/1.1\r\nHost: t\r\nReferer: http://r/\r\nUser-Agent: ua/2\r\nConnection: close\r\n\r\n");
    // The worker batches log lines; wait for ours to reach the harness.
    await waitForOutput(dev, /"GET \/hello\?q=1/, 5000).catch(() => {});
    assert.match(dev.output(), /127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/hello\?q=1 HTTP\/1\.1" 200 5 "http:\/\/r\/" "ua\/2"/);
  } finally {
    await dev.stop();
  }
});

// ---- header values and the status line: what cannot go out as HTTP/1.1 bytes ----------------

test("CR or LF in a header value is refused with a 500, never sent", async () => {
  const r = await exchange(servers.plain, "GET /crlf HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  assert.equal(r.responses[0].status, 500);
  assert.doesNotMatch(r.text, /x-injected/i);
});

test("a statusText with latin1 letters goes out as latin1 bytes, like header values", async () => {
  const r = await rawExchange(servers.counted, `GET /latin1-reason HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
  const line = Buffer.from("HTTP/1.1 200 Caf\xe9\r\n", "latin1");
  assert.ok(r.data.subarray(0, line.length).equals(line), JSON.stringify(r.text.slice(0, 20)));
});

// ---- a response stream that fails after its head went out -------------------------------------

for (const [what, request, framing] of [
  ["HTTP/1.0 (close-delimited)", "GET /stream-error HTTP/1.0\r\n\r\n", /connection: close\r\n\r\na{20}$/],
  ["HTTP/1.1 (chunked)", `GET /stream-error HTTP/1.1\r\n${H}\r\n`, /transfer-encoding: chunked\r\n\r\na\r\na{10}\r\na\r\na{10}\r\n$/],
]) {
  test(`a response stream that errors midway resets the connection, ${what}: the cut body never looks whole`, async () => {
    const c = await connect(servers.counted);
    c.s.write(request);
    await c.done;
    assert.match(c.text, framing);
    assert.equal(c.error, "ECONNRESET", "the client sees an abort, not a clean end");
  });
}
