// Request and response bodies over real sockets: Content-Length and chunked uploads of many
// sizes and chunkings, and every kind of response body: strings (UTF-8 lengths), bytes,
// streams (chunked to 1.1, length-delimited when the app sets Content-Length), and the
// responses that carry none (HEAD, 204, 304). What happens when the app's response is wrong:
// http-app-errors.test.js.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startApp, exchange, responses } from "./http-app.js";
import { baseUrl } from "./harness.js";

let server;
before(async () => {
  server = await startApp();
});
after(async () => {
  assert.equal((await server.stop()).code, 0);
});

function payload(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) & 0xff;
  return b;
}

function chunked(buf, sizes) {
  const parts = [];
  let off = 0;
  let k = 0;
  while (off < buf.length) {
    const n = Math.min(sizes[k++ % sizes.length], buf.length - off);
    parts.push(Buffer.from(`${n.toString(16)}\r\n`), buf.subarray(off, off + n), Buffer.from("\r\n"));
    off += n;
  }
  parts.push(Buffer.from("0\r\nX-Trailer: t\r\n\r\n"));
  return Buffer.concat(parts);
}

for (const size of [0, 1, 100, 16383, 65536, 65537, 300000]) {
  test(`a ${size}-byte Content-Length body is echoed byte for byte`, async () => {
    const body = payload(size);
    const res = await fetch(`${baseUrl(server)}/echo`, { method: "POST", body });
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), body);
  });
}

for (const [size, sizes] of [[10, [1]], [1000, [7, 300]], [70000, [65536]], [200000, [1000, 50000, 3]]]) {
  test(`a ${size}-byte chunked body in chunks of ${sizes} is decoded, trailers consumed`, async () => {
    const body = payload(size);
    const head = Buffer.from("POST /bytes-in HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    const next = Buffer.from("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    const r = await exchange(server, Buffer.concat([head, chunked(body, sizes), next]), { until: responses(2) });
    let sum = 0;
    for (const x of body) sum = (sum + x) % 65521;
    assert.deepEqual(JSON.parse(r.responses[0].body), { length: size, sum });
    assert.equal(r.responses[1].body, "hello", "the request after the trailers is served");
  });
}

test("a body split over many small writes arrives whole", async () => {
  const body = payload(5000);
  const pieces = [Buffer.from("POST /bytes-in HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n")];
  for (let i = 0; i < 5000; i += 333) pieces.push(body.subarray(i, i + 333));
  const r = await exchange(server, pieces);
  assert.equal(JSON.parse(r.responses[0].body).length, 5000);
});

test("text(), json() and formData() read the body the way the platform does", async () => {
  const t = await (await fetch(`${baseUrl(server)}/text`, { method: "POST", body: "héllo wörld" })).json();
  assert.equal(t.length, 11);
  const j = await (await fetch(`${baseUrl(server)}/json`, { method: "POST", body: JSON.stringify({ a: [1, 2] }) })).json();
  assert.deepEqual(j, { got: { a: [1, 2] } });
  const form = new FormData();
  form.set("name", "value");
  form.set("file", new Blob(["data"]), "f.txt");
  const f = await (await fetch(`${baseUrl(server)}/form`, { method: "POST", body: form })).json();
  assert.deepEqual(f, [["name", "value"], ["file", "f.txt"]]);
  const u = await (await fetch(`${baseUrl(server)}/form`, { method: "POST", body: new URLSearchParams({ x: "1" }) })).json();
  assert.deepEqual(u, [["x", "1"]]);
});

test("clone() gives two readers of the same body", async () => {
  const res = await fetch(`${baseUrl(server)}/clone`, { method: "POST", body: "twice" });
  assert.equal(await res.text(), "twice|twice");
});

test("string bodies get their UTF-8 Content-Length and go out whole", async () => {
  const r = await exchange(server, "GET /big?n=100000 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  const res = r.responses[0];
  assert.deepEqual(res.headers["content-length"], ["200000"]);
  assert.equal(Buffer.from(res.body, "latin1").toString("utf8"), "é".repeat(100000));
  assert.deepEqual(res.headers["content-type"], ["text/plain;charset=UTF-8"]);
  assert.ok(res.headers.date[0].endsWith(" GMT"));
});

test("byte bodies get Content-Length", async () => {
  const r = await exchange(server, "GET /bytes?n=70000 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  assert.deepEqual(r.responses[0].headers["content-length"], ["70000"]);
  assert.equal(r.responses[0].body, "a".repeat(70000));
});

test("a stream body is chunked to HTTP/1.1 and the connection stays open", async () => {
  const r = await exchange(server, "GET /stream?n=4&size=3 HTTP/1.1\r\nHost: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n", { until: responses(2) });
  assert.deepEqual(r.responses[0].headers["transfer-encoding"], ["chunked"]);
  assert.equal(r.responses[0].body, "bbbbbbbbbbbb");
  assert.equal(r.responses[1].body, "hello");
  assert.equal(r.closed, false);
});

test("a stream body with the app's Content-Length is sent raw", async () => {
  const r = await exchange(server, "GET /stream-length HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  assert.deepEqual(r.responses[0].headers["content-length"], ["3"]);
  assert.equal(r.responses[0].headers["transfer-encoding"], undefined);
  assert.equal(r.responses[0].body, "abc");
});

test("a large stream body respects backpressure and arrives whole", async () => {
  const res = await fetch(`${baseUrl(server)}/stream?n=200&size=65536`);
  const buf = Buffer.from(await res.arrayBuffer());
  assert.equal(buf.length, 200 * 65536);
  assert.ok(buf.every((b) => b === 98));
});

test("HEAD gets the headers and Content-Length of GET, and no body", async () => {
  const r = await exchange(server, "HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n", { until: responses(2, [0]), headRequests: [0] });
  assert.deepEqual(r.responses[0].headers["content-length"], ["5"]);
  assert.equal(r.responses[0].body, "");
  assert.equal(r.responses[1].body, "hello");
});

test("204 and 304 carry no body and no Content-Length", async () => {
  const r = await exchange(server, "GET /204 HTTP/1.1\r\nHost: t\r\n\r\nGET /304 HTTP/1.1\r\nHost: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n", { until: responses(3) });
  assert.deepEqual(r.responses.map((x) => x.status), [204, 304, 200]);
  assert.equal(r.responses[0].headers["content-length"], undefined);
  assert.equal(r.responses[1].headers["content-length"], undefined);
  assert.deepEqual(r.responses[1].headers.etag, ['"x"']);
});

test("several Set-Cookie fields stay apart", async () => {
  const r = await exchange(server, "GET /cookies HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  assert.deepEqual(r.responses[0].headers["set-cookie"], ["a=1; Path=/", "b=2; Path=/"]);
});

test("headers the app changes after construction are sent", async () => {
  const r = await exchange(server, "GET /mutate HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  assert.deepEqual(r.responses[0].headers["x-added"], ["1"]);
});

test("a custom status and reason are sent; a platform Response (redirect) works too", async () => {
  const r = await exchange(server, "GET /status?s=299&t=Fine HTTP/1.1\r\nHost: t\r\n\r\nGET /native HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  assert.match(r.text, /^HTTP\/1\.1 299 Fine\r\n/);
  assert.equal(r.responses[1].status, 302);
  assert.deepEqual(r.responses[1].headers.location, ["http://example.com/"]);
});
