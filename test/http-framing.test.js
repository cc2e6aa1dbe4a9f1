// Request heads, black-box over raw sockets: what picohttpparser leaves to the server (README.md
// "HTTP") about the request line (methods, targets, versions: RFC 9112 §2-§3), Host (RFC 9112
// §3.2), header lines, Expect (RFC 9110 §10.1.1), and the limits on a request: its head's size
// (414, 431, 501 for a method that never ends), its declared body size (413) and the time its head
// may take (--header-timeout, 408). Every malformed or refused request gets a status and a short
// reason, and the connection closes: a request the server could misframe must never let a second
// request through. How a body is framed (Content-Length, chunked) and request smuggling:
// http-smuggling.test.js.
//
// Two servers: `plain` runs the plain app (http-app.js) and `counted` the counting app, whose
// rows state the final statuses and app calls the bytes must produce (countedRows).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  serversForFile, startApp, exchange, responses, startCountingApp, TABLE_LIMITS, countedRows, refusedRows, H, LAST, post, chunked,
} from "./http-app.js";
import { RUNTIME, rawExchange, splitResponses, runtimeEval, waitForOutput, connect, sleep } from "./harness.js";

const servers = serversForFile({
  plain: () => startApp(["--max-header-size", "4096", "--max-body-size", "100000"]),
  counted: () => startCountingApp(TABLE_LIMITS),
});

// Invalid punycode is refused by Node 20's URL parser, Bun's and Deno's, but not by the newer ada
// in Node 24 and 26 (`new URL("http://xn--zz/")` parses there). The rule is the URL parser's: what
// it refuses gets a 400, what it accepts is served, and either way the app's new URL() never throws.
const PUNYCODE_REFUSED = runtimeEval(`try { new URL("http://xn--zz/"); console.log("accepted"); } catch { console.log("refused"); }`) === "refused";

// ---- served or refused, and how many app calls (the counting app; --max-body-size 1000,
// ---- --max-header-size 4096) -----------------------------------------------------------------

countedRows([
  // request lines
  ["GET *", `GET * HTTP/1.1\r\n${H}\r\n`, [400], 0],
  ["OPTIONS *", `OPTIONS * HTTP/1.1\r\n${H}\r\n`, [200, 200], 2],
  ["CONNECT", `CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n`, [501], 0],
  ["HTTP/0.9", "GET /\r\n\r\n", [400], 0],
  ["one leading CRLF (RFC 9112 §2.2)", `\r\nGET / HTTP/1.1\r\n${H}\r\n`, [200, 200], 2],
  ["a lower-case protocol name", `GET / http/1.1\r\n${H}\r\n`, [400], 0],
  ["a Host with userinfo", `GET / HTTP/1.1\r\nHost: a@b\r\n\r\n`, [400], 0],
  ["an absolute-form target with a space in it", `GET http://a b/ HTTP/1.1\r\n${H}\r\n`, [400], 0],
  // Hosts RFC 3986 syntax allows but the URL parser refuses: request.url could not be parsed
  ["a Host port past 65535", `GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n`, [400], 0],
  ["a Host with bad percent-encoding", `GET / HTTP/1.1\r\nHost: %zz\r\n\r\n`, [400], 0],
  ["a Host with an encoded NUL", `GET / HTTP/1.1\r\nHost: a%00b\r\n\r\n`, [400], 0],
  ["a Host with an IPv4 number out of range", `GET / HTTP/1.1\r\nHost: 999.1.1.1\r\n\r\n`, [400], 0],
  ["a Host with an invalid IPv6 literal", `GET / HTTP/1.1\r\nHost: [:::]\r\n\r\n`, [400], 0],
  PUNYCODE_REFUSED
    ? ["a Host with invalid punycode", `GET / HTTP/1.1\r\nHost: xn--zz\r\n\r\n`, [400], 0]
    : [`a Host with punycode ${RUNTIME}'s URL parser accepts (xn--zz)`, `GET / HTTP/1.1\r\nHost: xn--zz\r\n\r\n`, [200, 200], 2],
  ["a Host that is only a port", `GET / HTTP/1.1\r\nHost: :80\r\n\r\n`, [400], 0],
  ["an absolute-form target with a port past 65535", `GET http://a:99999/x HTTP/1.1\r\n${H}\r\n`, [400], 0],
  ["an absolute-form target with bad percent-encoding in its host", `GET http://%zz/x HTTP/1.1\r\n${H}\r\n`, [400], 0],
  ["a Host with an IPv6 literal and a port", `GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n`, [200, 200], 2],
  ["a Host in hex IPv4 form", `GET / HTTP/1.1\r\nHost: 0x7f.1\r\n\r\n`, [200, 200], 2],
  // the head's size
  ["a head of exactly --max-header-size", `GET / HTTP/1.1\r\n${H}X: ${"a".repeat(4096 - 32)}\r\n\r\n`, [200, 200], 2],
  ["a head one byte over --max-header-size", `GET / HTTP/1.1\r\n${H}X: ${"a".repeat(4096 - 31)}\r\n\r\n`, [431], 0],
  ["256 header lines", `GET / HTTP/1.1\r\n${H}${"X: y\r\n".repeat(255)}\r\n`, [200, 200], 2],
  ["257 header lines", `GET / HTTP/1.1\r\n${H}${"X: y\r\n".repeat(256)}\r\n`, [431], 0],
  // bodies at the limit (--max-body-size 1000)
  ["a CL body of exactly --max-body-size", post("Content-Length: 1000\r\n", "a".repeat(1000)), [200, 200], 2],
  ["a CL body one byte over", post("Content-Length: 1001\r\n", "a".repeat(1001)), [413], 0],
  ["a chunked body of exactly --max-body-size", chunked(`3e8\r\n${"a".repeat(1000)}\r\n0\r\n\r\n`), [200, 200], 2],
  ["a chunked body one byte over", chunked(`3e8\r\n${"a".repeat(1000)}\r\n1\r\na\r\n0\r\n\r\n`), [413], 1],
], () => servers.counted);

// ---- refused, with a reason, and the connection closes (the plain app; --max-header-size 4096,
// ---- --max-body-size 100000) ------------------------------------------------------------------

refusedRows([
  ["HTTP/1.1 without Host", "GET /hello HTTP/1.1\r\n\r\n", 400],
  ["two Host fields", `GET /hello HTTP/1.1\r\n${H}${H}\r\n`, 400],
  ["a Host with a path in it", "GET /hello HTTP/1.1\r\nHost: a/b\r\n\r\n", 400],
  ["a Host with a space", "GET /hello HTTP/1.1\r\nHost: a b\r\n\r\n", 400],
  ["Content-Length past 15 digits", `POST /echo HTTP/1.1\r\n${H}Content-Length: 1000000000000000000\r\n\r\n`, 413],
  ["Content-Length over --max-body-size", `POST /echo HTTP/1.1\r\n${H}Content-Length: 100001\r\n\r\n`, 413],
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
], () => servers.plain);

test("the log line for a refused request names the status, the limit and the peer", async () => {
  await exchange(servers.plain, `GET /hello HTTP/1.1\r\n${H}X-Big: ${"a".repeat(5000)}\r\n\r\n`);
  await waitForOutput(servers.plain, /431: request head over 4096 bytes from 127\.0\.0\.1:\d+/, 5000); // may come after the close
});

test("a chunked body over --max-body-size gets 413 while decoding", async () => {
  const chunk = `${(60000).toString(16)}\r\n${"a".repeat(60000)}\r\n`;
  const r = await exchange(servers.plain, `POST /text HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}0\r\n\r\n`);
  assert.ok(r.closed);
  assert.equal(r.responses[0].status, 413);
});

// ---- versions ------------------------------------------------------------------------------

test("HTTP/1.2 to 1.9 are served as HTTP/1.1", async () => {
  const r = await exchange(servers.plain, "GET /hello HTTP/1.7\r\nHost: t\r\n\r\n", { until: responses(1) });
  assert.equal(r.responses[0].status, 200);
  assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.equal(r.closed, false, "kept alive like 1.1");
});

test("HTTP/1.0 without Host uses the listen address in request.url", async () => {
  const r = await exchange(servers.plain, "GET /info HTTP/1.0\r\n\r\n");
  const info = JSON.parse(r.responses[0].body);
  assert.equal(info.url, `http://127.0.0.1:${servers.plain.port}/info`);
});

// ---- targets, Host and header bytes: what request.url and request.headers become -------------

test("an absolute-form target sets request.url, not Host", async () => {
  const r = await exchange(servers.plain, "GET http://Example.COM:8080/info?x=1 HTTP/1.1\r\nHost: ignored\r\nConnection: close\r\n\r\n");
  assert.equal(JSON.parse(r.responses[0].body).url, "http://example.com:8080/info?x=1");
});

test("Host and target are joined into an absolute request.url, normalised like the platform", async () => {
  const r1 = await exchange(servers.plain, "GET /info?a=b HTTP/1.1\r\nHost: example.com:81\r\nConnection: close\r\n\r\n");
  assert.equal(JSON.parse(r1.responses[0].body).url, "http://example.com:81/info?a=b");
  const r2 = await exchange(servers.plain, "GET /x/../info HTTP/1.1\r\nHost: EXAMPLE.com:80\r\nConnection: close\r\n\r\n");
  assert.equal(JSON.parse(r2.responses[0].body).url, "http://example.com/info");
});

// RFC 9112 §3.2 has no place for octets >= 0x80 in a request-target; they are passed to the app
// percent-encoded as the bytes they are (what a WHATWG URL parser makes of the target typed as
// UTF-8), never as the UTF-8 form of their latin1 reading (`/%C3%83%C2%A9` for `/é`).
for (const [what, target, url] of [
  ["the path", "/url/\xc3\xa9", "http://t/url/%C3%A9"],
  ["the query", "/url/?q=\xc3\xa9&r=\xe9", "http://t/url/?q=%C3%A9&r=%E9"],
  ["an absolute-form target", "http://t/url/\xc3\xa9?q=\xc3\xa9", "http://t/url/%C3%A9?q=%C3%A9"],
  ["a path that also needs normalising", "/x/../url/\xc3\xa9", "http://t/url/%C3%A9"],
  ["an encoded path left as it is", "/url/%C3%A9\xe9", "http://t/url/%C3%A9%E9"],
]) {
  test(`raw non-ASCII octets in ${what} reach request.url percent-encoded as sent`, async () => {
    const r = await rawExchange(servers.counted, `GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
    const [res] = splitResponses(r.text);
    assert.equal(res.status, 200);
    assert.equal(res.body, url);
  });
}

test("header bytes are decoded as latin1", async () => {
  const r = await exchange(servers.plain, "GET /info HTTP/1.1\r\nHost: t\r\nX-L: caf\xe9\r\nConnection: close\r\n\r\n");
  const info = JSON.parse(Buffer.from(r.responses[0].body, "latin1").toString("utf8"));
  assert.deepEqual(info.headers.find(([k]) => k === "x-l"), ["x-l", "caf\u00e9"]);
});

// ---- Expect: 100-continue --------------------------------------------------------------------

test("Expect: 100-continue is answered before the body is sent", async () => {
  // The client sends the body only after it has seen the 100.
  const c = await connect(servers.plain);
  c.s.write("POST /text HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  await c.waitFor(/\r\n\r\n/);
  assert.equal(c.text, "HTTP/1.1 100 Continue\r\n\r\n");
  c.s.write("hello");
  await c.waitFor(/"tail"/);
  c.s.destroy();
  assert.match(c.text, /HTTP\/1\.1 200 OK[\s\S]*"length":5/);
});

test("Expect: 100-continue from an HTTP/1.0 client gets no 100", async () => {
  const r = await exchange(servers.plain, "POST /text HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi");
  assert.equal(r.responses.length, 1);
  assert.equal(r.responses[0].status, 200);
});

test("Expect: 100-continue with a response stream that reads the body: the 100 precedes the final head, never lands inside its body", async () => {
  const c = await connect(servers.counted);
  c.s.write(`POST /echo-stream HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 5\r\n\r\n`);
  await c.waitFor(/\r\n\r\nHTTP\/1\.1 200 [^]*\r\n\r\n/);
  assert.match(c.text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
  c.s.write("hello");
  c.s.write(LAST);
  await c.done;
  const all = splitResponses(c.text);
  assert.deepEqual(all.map((r) => r.status), [100, 200, 200]);
  assert.equal(all[1].body, "hello");
});

// ---- the time a head may take: --header-timeout ----------------------------------------------

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
  const r = await exchange(servers.plain, [...raw]);
  assert.equal(r.responses[0].status, 200);
  assert.equal(r.responses[0].body, "hello");
});

test("an idle spell longer than --header-timeout does not count against the next connection", async () => {
  const srv = await startCountingApp(["--header-timeout", "0.3"]);
  try {
    await rawExchange(srv, `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    await sleep(800); // no connection open: the server's clock idles (the test's subject)
    const c = await connect(srv);
    c.s.write("GET /late HTTP/1.1\r\n");
    await sleep(150); // well within 0.3 s of the connection
    c.s.write(`${H}Connection: close\r\n\r\n`);
    await c.done;
    assert.match(c.text, /^HTTP\/1\.1 200 OK\r\n[^]*GET \/late$/);
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});

test("a head dribbled byte by byte past --header-timeout gets 408 though every byte came in time", async () => {
  const srv = await startCountingApp(["--header-timeout", "0.3"]);
  try {
    const c = await connect(srv);
    let dribbling = true;
    const dribbler = (async () => {
      for (const ch of `GET / HTTP/1.1\r\n${H}X-Pad: ${"a".repeat(200)}\r\n\r\n`) {
        if (!dribbling) break;
        c.s.write(Buffer.from(ch, "latin1"));
        await sleep(5); // a slow client: the test's subject
      }
    })();
    await c.done;
    assert.match(c.text, /^HTTP\/1\.1 408 /);
    dribbling = false;
    c.s.destroy();
    await dribbler;
    const r = await rawExchange(srv, `GET /after HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    assert.match(r.text, /GET \/after$/, "the worker still serves");
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});
