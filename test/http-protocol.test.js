// What picohttpparser leaves to the server (REFERENCE.md part 2), black-box over raw sockets:
// framing (RFC 9112 §6), Host (RFC 9112 §3.2), versions, Expect (RFC 9110 §10.1.1), limits.
// Every malformed or refused request gets a status and a short reason, and the connection
// closes: a request the server could misframe must never let a second request through.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startApp, exchange, responses } from "./http-app.js";
import { waitForOutput } from "./harness.js";

let server;
before(async () => {
  server = await startApp(["--max-header-size", "4096", "--max-body-size", "100000"]);
});
after(async () => {
  const r = await server.stop();
  assert.equal(r.code, 0);
});

const H = "Host: t\r\n";

// [description, raw request, expected status]; each must also close the connection, and the
// smuggled "GET /hello" after it must never be answered.
const REJECTED = [
  ["HTTP/1.1 without Host", "GET /hello HTTP/1.1\r\n\r\n", 400],
  ["two Host fields", `GET /hello HTTP/1.1\r\n${H}${H}\r\n`, 400],
  ["a Host with a path in it", "GET /hello HTTP/1.1\r\nHost: a/b\r\n\r\n", 400],
  ["a Host with a space", "GET /hello HTTP/1.1\r\nHost: a b\r\n\r\n", 400],
  ["Content-Length with a sign", `POST /echo HTTP/1.1\r\n${H}Content-Length: +3\r\n\r\nabc`, 400],
  ["Content-Length in hex", `POST /echo HTTP/1.1\r\n${H}Content-Length: 0x3\r\n\r\nabc`, 400],
  ["Content-Length as a list", `POST /echo HTTP/1.1\r\n${H}Content-Length: 3, 3\r\n\r\nabc`, 400],
  ["two equal Content-Length fields", `POST /echo HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc`, 400],
  ["two different Content-Length fields", `POST /echo HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`, 400],
  ["Content-Length past 15 digits", `POST /echo HTTP/1.1\r\n${H}Content-Length: 1000000000000000000\r\n\r\n`, 413],
  ["Content-Length over --max-body-size", `POST /echo HTTP/1.1\r\n${H}Content-Length: 100001\r\n\r\n`, 413],
  ["Transfer-Encoding with Content-Length", `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, 400],
  ["Content-Length with Transfer-Encoding", `POST /echo HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, 400],
  ["chunked not last", `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`, 400],
  ["chunked twice", `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n`, 400],
  ["chunked twice in two fields", `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`, 400],
  ["a coding we do not implement", `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n`, 501],
  ["a non-ASCII lookalike of chunked", `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: \xa0chunked\r\n\r\n`, 400],
  ["Transfer-Encoding in HTTP/1.0", `POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, 400],
  ["malformed chunk size", `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`, 400],
  ["obs-fold", `GET /hello HTTP/1.1\r\n${H}X-A: a\r\n  folded\r\n\r\n`, 400],
  ["a syntax error in the request line", "GET  /hello\r\n\r\n", 400],
  ["a space before the colon", `GET /hello HTTP/1.1\r\n${H}X-A : b\r\n\r\n`, 400],
  ["HTTP/2.0", "GET /hello HTTP/2.0\r\nHost: t\r\n\r\n", 505],
  ["HTTP/3.1", "GET /hello HTTP/3.1\r\nHost: t\r\n\r\n", 505],
  ["HTTP/0.9 named in the request line", "GET /hello HTTP/0.9\r\nHost: t\r\n\r\n", 505],
  // RFC 9112 §2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT; anything else is malformed, not a version
  ["HTTP/11.1 (two major digits)", "GET /hello HTTP/11.1\r\nHost: t\r\n\r\n", 400],
  ["HTTP/2.10 (two minor digits)", "GET /hello HTTP/2.10\r\nHost: t\r\n\r\n", 400],
  ["HTTP/1.10 (two minor digits)", "GET /hello HTTP/1.10\r\nHost: t\r\n\r\n", 400],
  ["HTTP/2 (no minor)", "GET /hello HTTP/2\r\nHost: t\r\n\r\n", 400],
  ["HTTP/2. (an empty minor)", "GET /hello HTTP/2.\r\nHost: t\r\n\r\n", 400],
  ["HTTP/+2.0", "GET /hello HTTP/+2.0\r\nHost: t\r\n\r\n", 400],
  ["an expectation other than 100-continue", `GET /hello HTTP/1.1\r\n${H}Expect: 200-ok\r\n\r\n`, 417],
  ["a relative target", `GET hello HTTP/1.1\r\n${H}\r\n`, 400],
  ["an absolute-form target with a non-http scheme", `GET ftp://t/hello HTTP/1.1\r\n${H}\r\n`, 400],
  ["CONNECT", `CONNECT t:443 HTTP/1.1\r\n${H}\r\n`, 501],
  ["a head over --max-header-size", `GET /hello HTTP/1.1\r\n${H}X-Big: ${"a".repeat(5000)}\r\n\r\n`, 431],
  ["a request line over --max-header-size", `GET /${"a".repeat(5000)} HTTP/1.1\r\n${H}\r\n`, 414],
  ["a request line over --max-header-size after an empty line", `\r\nGET /${"a".repeat(5000)} HTTP/1.1\r\n${H}\r\n`, 414],
  // a method that never ends within the limit is an unknown method (RFC 9112 §3), not a long target
  ["a method over --max-header-size", `${"A".repeat(5000)} /hello HTTP/1.1\r\n${H}\r\n`, 501],
  ["a method over --max-header-size, sent without its end", "A".repeat(5000), 501],
  ["a method over --max-header-size that is not a token", `${"A".repeat(100)}{${"A".repeat(4900)}`, 400],
  ["more than 256 header lines", `GET /hello HTTP/1.1\r\n${H}${"X: y\r\n".repeat(300)}\r\n`, 431],
];

for (const [what, raw, status] of REJECTED) {
  test(`${what} gets ${status} and the connection closes`, async () => {
    const r = await exchange(server, raw + "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", { timeoutMs: 3000 });
    assert.ok(r.closed, "connection closed");
    assert.equal(r.responses.length, 1, `exactly one response: ${JSON.stringify(r.text.slice(0, 300))}`);
    assert.equal(r.responses[0].status, status);
    assert.deepEqual(r.responses[0].headers.connection, ["close"]);
    assert.match(r.responses[0].body, new RegExp(`^${status} `));
  });
}

test("the log line for a refused request names the status, the limit and the peer", async () => {
  await exchange(server, `GET /hello HTTP/1.1\r\n${H}X-Big: ${"a".repeat(5000)}\r\n\r\n`);
  await waitForOutput(server, /431: request head over 4096 bytes from 127\.0\.0\.1:\d+/, 5000); // may come after the close
});

test("HTTP/1.2 to 1.9 are served as HTTP/1.1", async () => {
  const r = await exchange(server, "GET /hello HTTP/1.7\r\nHost: t\r\n\r\n", { until: responses(1) });
  assert.equal(r.responses[0].status, 200);
  assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.equal(r.closed, false, "kept alive like 1.1");
});

test("HTTP/1.0 closes by default and never gets chunked", async () => {
  const r = await exchange(server, "GET /stream?n=3&size=4 HTTP/1.0\r\n\r\n");
  assert.ok(r.closed);
  const [res] = r.responses;
  assert.equal(res.status, 200);
  assert.equal(res.headers["transfer-encoding"], undefined);
  assert.equal(res.body, "bbbbbbbbbbbb");
});

test("HTTP/1.0 with Connection: keep-alive and a known length stays open", async () => {
  const r = await exchange(server, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", { until: responses(2) });
  assert.equal(r.responses.length, 2);
  assert.deepEqual(r.responses[0].headers.connection, ["keep-alive"]);
  assert.equal(r.closed, false);
});

test("HTTP/1.0 without Host uses the listen address in request.url", async () => {
  const r = await exchange(server, "GET /info HTTP/1.0\r\n\r\n");
  const info = JSON.parse(r.responses[0].body);
  assert.equal(info.url, `http://127.0.0.1:${server.port}/info`);
});

test("an absolute-form target sets request.url, not Host", async () => {
  const r = await exchange(server, "GET http://Example.COM:8080/info?x=1 HTTP/1.1\r\nHost: ignored\r\nConnection: close\r\n\r\n");
  assert.equal(JSON.parse(r.responses[0].body).url, "http://example.com:8080/info?x=1");
});

test("Host and target are joined into an absolute request.url, normalised like the platform", async () => {
  const r1 = await exchange(server, "GET /info?a=b HTTP/1.1\r\nHost: example.com:81\r\nConnection: close\r\n\r\n");
  assert.equal(JSON.parse(r1.responses[0].body).url, "http://example.com:81/info?a=b");
  const r2 = await exchange(server, "GET /x/../info HTTP/1.1\r\nHost: EXAMPLE.com:80\r\nConnection: close\r\n\r\n");
  assert.equal(JSON.parse(r2.responses[0].body).url, "http://example.com/info");
});

test("header bytes are decoded as latin1", async () => {
  const r = await exchange(server, "GET /info HTTP/1.1\r\nHost: t\r\nX-L: caf\xe9\r\nConnection: close\r\n\r\n");
  const info = JSON.parse(Buffer.from(r.responses[0].body, "latin1").toString("utf8"));
  assert.deepEqual(info.headers.find(([k]) => k === "x-l"), ["x-l", "caf\u00e9"]);
});

test("Expect: 100-continue is answered before the body is sent", async () => {
  // The client sends the body only after it has seen the 100 (rawExchange's first piece, then
  // the second once `until` saw the interim response is not possible there: use the socket).
  const net = await import("node:net");
  const sock = net.connect(server.port, server.host);
  sock.write("POST /text HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  let text = "";
  sock.setEncoding("latin1");
  await new Promise((resolve) => sock.on("data", (c) => {
    text += c;
    if (text.includes("\r\n\r\n")) resolve();
  }));
  assert.equal(text, "HTTP/1.1 100 Continue\r\n\r\n");
  sock.write("hello");
  await new Promise((resolve) => sock.on("data", () => text.includes('"tail"') && resolve()));
  sock.destroy();
  assert.match(text, /HTTP\/1\.1 200 OK[\s\S]*"length":5/);
});

test("Expect: 100-continue from an HTTP/1.0 client gets no 100", async () => {
  const r = await exchange(server, "POST /text HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi");
  assert.equal(r.responses.length, 1);
  assert.equal(r.responses[0].status, 200);
});

test("a chunked body over --max-body-size gets 413 while decoding", async () => {
  const chunk = `${(60000).toString(16)}\r\n${"a".repeat(60000)}\r\n`;
  const r = await exchange(server, `POST /text HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}0\r\n\r\n`);
  assert.ok(r.closed);
  assert.equal(r.responses[0].status, 413);
});

test("a partial head that stalls gets 408 after --header-timeout and closes", async () => {
  const slow = await startApp(["--header-timeout", "0.3"]);
  try {
    const started = Date.now();
    const r = await exchange(slow, "GET /hello HTTP/1.1\r\nHost: t\r\n", { timeoutMs: 5000 });
    assert.ok(r.closed);
    assert.equal(r.responses[0].status, 408);
    assert.ok(Date.now() - started >= 250, "not before the timeout");
  } finally {
    await slow.stop();
  }
});

test("a head sent one byte at a time within the timeout is served", async () => {
  const raw = "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  const r = await exchange(server, [...raw]);
  assert.equal(r.responses[0].status, 200);
  assert.equal(r.responses[0].body, "hello");
});
