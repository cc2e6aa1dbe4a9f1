// Adversarial black-box review of the HTTP/1.1 core over raw sockets: request-line and Host
// oddities, head limits, bodies at and past the limits, responses the app gets wrong, disconnects
// and keep-alive rules (request smuggling has its own file, http-smuggling.test.js). The app counts its calls (GET /__calls, not
// counted), so a request smuggled past the framing shows up as an extra call: every row states
// how many calls and which final statuses the bytes must produce, in order, and ends with a
// `Connection: close` request so the exchange ends when the server closes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import { RUNTIME, startServer, writeApp, rawExchange, splitResponses, addressOf, runtimeEval, countedExchange } from "./harness.js";

const APP = String.raw`
let calls = 0, cancelled = 0, aborted = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export default {
  fetch(request, info) {
    if (request.url.includes("/sync/")) {
      calls++;
      return this.sync(request);
    }
    return this.asyncFetch(request, info);
  },
  async asyncFetch(request, info) {
    const url = new URL(request.url);
    if (url.pathname === "/__calls") return new Response(String(calls));
    if (url.pathname === "/__gone") return new Response(cancelled + "," + aborted);
    if (url.pathname.startsWith("/url/")) return new Response(request.url);
    calls++;
    switch (url.pathname) {
      case "/echo": { const t = await request.text(); return new Response(request.method + " " + t.length + ":" + t); }
      case "/echo-stream": return new Response(request.body);
      case "/big": return new Response(new Uint8Array(32 << 20));
      case "/ignore": return new Response("ignored");
      case "/stream-error": { let i = 0; return new Response(new ReadableStream({ async pull(c) { if (i++ < 2) { await sleep(5); c.enqueue(new Uint8Array(10).fill(97)); } else { await sleep(20); c.error(new Error("midway")); } } })); }
      case "/stream-forever": return new Response(new ReadableStream({ async pull(c) { await sleep(20); c.enqueue(new Uint8Array(1000).fill(99)); }, cancel() { cancelled++; } }));
      case "/error": return Response.error();
      case "/redirect": return Response.redirect("http://example.com/x", 301);
      case "/json": return Response.json({ a: 1 }, { status: 201 });
      case "/nonresponse": return "a string";
      case "/throw": throw new Error("sync boom");
      case "/reject": return Promise.reject(new Error("async boom"));
      case "/latin1-header": return new Response("l", { headers: { "x-l": "caf\u00e9" } });
      case "/utf8-header": return new Response("u", { headers: { "x-u": "\u20ac" } });
      case "/status-text": return new Response("s", { statusText: "a\r\nx-injected: 1" });
      case "/form": { const f = await request.formData(); return Response.json([...f].map(([k, v]) => [k, typeof v === "string" ? v : v.name + ":" + v.size])); }
      case "/wait-abort": await new Promise((r) => request.signal.addEventListener("abort", r)); aborted++; return new Response("late");
      case "/after-leave": await sleep(200); return new Response("too late");
      case "/locked": { const r = new Response(new ReadableStream({ start(c) { c.enqueue(new Uint8Array(3)); c.close(); } })); r.body.getReader(); return r; }
      case "/used": { const r = new Response("abc"); await r.text(); return r; }
      case "/header-getter": return new Response("x", { headers: { get "x-a"() { throw new Error("getter"); } } });
      case "/proxy": return new Proxy(new Response("p"), {});
      case "/ctor-getter": return { get constructor() { throw new Error("ctor"); } };
      case "/latin1-reason": return new Response("s", { statusText: "Caf\u00e9" });
      default: return new Response(request.method + " " + url.pathname);
    }
  },
  // A second entry point, so that fetch can be sync for the cases where it matters (a value
  // thrown or returned synchronously reaches the server in the socket's data callback).
  sync(request) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/sync/thenable-throws": return { then() { throw new Error("thenable boom"); } };
      case "/sync/throw-null-proto": throw Object.create(null);
      case "/sync/reject-null-proto": return Promise.reject(Object.create(null));
      case "/sync/throw-proxy": throw new Proxy({}, { getPrototypeOf() { throw new Error("trap"); }, get() { throw new Error("trap"); } });
      case "/sync/locked": { const r = new Response(new ReadableStream({ start(c) { c.enqueue(new Uint8Array(3)); c.close(); } })); r.body.getReader(); return r; }
      case "/sync/header-getter": return new Response("x", { headers: { get "x-a"() { throw new Error("getter"); } } });
      default: return new Response("sync " + url.pathname);
    }
  },
};
`;

const H = "Host: t\r\n";
// Invalid punycode is refused by Node 20's URL parser, Bun's and Deno's, but not by the newer ada
// in Node 24 and 26 (`new URL("http://xn--zz/")` parses there). The rule is the URL parser's: what
// it refuses gets a 400, what it accepts is served, and either way the app's new URL() never throws.
const PUNYCODE_REFUSED = runtimeEval(`try { new URL("http://xn--zz/"); console.log("accepted"); } catch { console.log("refused"); }`) === "refused";
/** The last request of every row: answered unless something before it closed the connection. */
const LAST = "GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
const post = (framing, body) => `POST /echo HTTP/1.1\r\n${H}${framing}\r\n${body}`;
const chunked = (body) => post("Transfer-Encoding: chunked\r\n", body);
/** A complete request hidden where a lax server would see a second request. */
const SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"; // 35 bytes

let server;
before(async () => {
  server = await startServer(["--workers", "1", "--host", "127.0.0.1", "--port", "0", "-E", "production",
    "--max-body-size", "1000", "--max-header-size", "4096", "--timeout", "0.5", writeApp(APP, "adversarial.mjs")]);
});
after(async () => {
  const r = await server.stop();
  assert.equal(r.code, 0);
});

// [what, bytes sent before LAST, final statuses, app calls]
const ROWS = [
  // heads
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
  ["a head of exactly --max-header-size", `GET / HTTP/1.1\r\n${H}X: ${"a".repeat(4096 - 32)}\r\n\r\n`, [200, 200], 2],
  ["a head one byte over --max-header-size", `GET / HTTP/1.1\r\n${H}X: ${"a".repeat(4096 - 31)}\r\n\r\n`, [431], 0],
  ["256 header lines", `GET / HTTP/1.1\r\n${H}${"X: y\r\n".repeat(255)}\r\n`, [200, 200], 2],
  ["257 header lines", `GET / HTTP/1.1\r\n${H}${"X: y\r\n".repeat(256)}\r\n`, [431], 0],
  // bodies at the limit (--max-body-size 1000)
  ["a CL body of exactly --max-body-size", post("Content-Length: 1000\r\n", "a".repeat(1000)), [200, 200], 2],
  ["a CL body one byte over", post("Content-Length: 1001\r\n", "a".repeat(1001)), [413], 0],
  ["a chunked body of exactly --max-body-size", chunked(`3e8\r\n${"a".repeat(1000)}\r\n0\r\n\r\n`), [200, 200], 2],
  ["a chunked body one byte over", chunked(`3e8\r\n${"a".repeat(1000)}\r\n1\r\na\r\n0\r\n\r\n`), [413], 1],
  // keep-alive
  ["Connection: close with a request behind it", `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n${SMUGGLED}`, [200], 1],
  ["Connection: keep-alive, close", `GET / HTTP/1.1\r\n${H}Connection: keep-alive, close\r\n\r\n${SMUGGLED}`, [200], 1],
  ["HTTP/1.0 without keep-alive and a request behind it", `GET / HTTP/1.0\r\n\r\n${SMUGGLED}`, [200], 1],
  ["HTTP/1.0 keep-alive", `GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`, [200, 200], 2],
  // responses the app gets wrong: a 500, and the worker and the connection live on
  ["Response.error()", `GET /error HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["a non-Response", `GET /nonresponse HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["a synchronous throw", `GET /throw HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["a rejection", `GET /reject HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["a header value past U+00FF", `GET /utf8-header HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
  ["a statusText with CRLF", `GET /status-text HTTP/1.1\r\n${H}\r\n`, [500, 200], 2],
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
];

for (const [what, bytes, statuses, n] of ROWS) {
  test(`${what}: ${statuses.join(", ")} and ${n} app call(s)`, async () => {
    const r = await countedExchange(server, bytes + LAST);
    assert.deepEqual(r.statuses, statuses, r.text.slice(0, 400));
    assert.equal(r.calls, n);
    assert.ok(!r.bodies.includes("GET /smuggled"), "no smuggled request was answered");
  });
}

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
    const r = await rawExchange(server, `GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
    const [res] = splitResponses(r.text);
    assert.equal(res.status, 200);
    assert.equal(res.body, url);
  });
}


// ---- timing attacks, on a server of their own (short timeouts) -----------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A raw connection that records what it receives, whether it closed, and how (error code). */
async function connect(srv) {
  const s = net.connect(addressOf(srv));
  const c = { s, text: "", closed: false, error: null };
  s.on("data", (d) => { c.text += d.toString("latin1"); });
  s.on("error", (e) => { c.error = e.code; });
  c.done = new Promise((resolve) => s.on("close", () => { c.closed = true; resolve(); }));
  /** Resolves once the bytes received match `re`, or the connection closed. */
  c.waitFor = (re) => new Promise((resolve) => {
    const check = () => {
      if (!re.test(c.text) && !c.closed) return;
      s.off("data", check);
      s.off("close", check);
      resolve();
    };
    s.on("data", check);
    s.on("close", check);
    check();
  });
  await once(s, "connect");
  return c;
}

async function dribble(c, text, ms) {
  for (const ch of text) {
    c.s.write(Buffer.from(ch, "latin1"));
    await sleep(ms);
  }
}

test("an idle spell longer than --header-timeout does not count against the next connection", async () => {
  const srv = await startServer(["--workers", "1", "--host", "127.0.0.1", "--port", "0", "-E", "production",
    "--header-timeout", "0.3", writeApp(APP, "adversarial.mjs")]);
  try {
    await rawExchange(srv, `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    await sleep(800); // no connection open: the server's clock idles
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
  const srv = await startServer(["--workers", "1", "--host", "127.0.0.1", "--port", "0", "-E", "production",
    "--header-timeout", "0.3", writeApp(APP, "adversarial.mjs")]);
  try {
    const c = await connect(srv);
    const dribbling = dribble(c, `GET / HTTP/1.1\r\n${H}X-Pad: ${"a".repeat(200)}\r\n\r\n`, 5);
    await c.done;
    assert.match(c.text, /^HTTP\/1\.1 408 /);
    c.s.destroy();
    await dribbling;
    const r = await rawExchange(srv, `GET /after HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    assert.match(r.text, /GET \/after$/, "the worker still serves");
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});

// ---- responses cut short ----------------------------------------------------------------

for (const [what, request, framing] of [
  ["HTTP/1.0 (close-delimited)", "GET /stream-error HTTP/1.0\r\n\r\n", /connection: close\r\n\r\na{20}$/],
  ["HTTP/1.1 (chunked)", `GET /stream-error HTTP/1.1\r\n${H}\r\n`, /transfer-encoding: chunked\r\n\r\na\r\na{10}\r\na\r\na{10}\r\n$/],
]) {
  test(`a response stream that errors midway resets the connection, ${what}: the cut body never looks whole`, async () => {
    const c = await connect(server);
    c.s.write(request);
    await c.done;
    assert.match(c.text, framing);
    assert.equal(c.error, "ECONNRESET", "the client sees an abort, not a clean end");
  });
}

test("Expect: 100-continue with a response stream that reads the body: the 100 precedes the final head, never lands inside its body", async () => {
  const c = await connect(server);
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

test("a client that pipelines requests but reads no answers is not buffered without bound; reading resumes when it reads", async () => {
  // Its own server: the shared one's --timeout 0.5 would cut this client off first.
  const srv = await startServer(["--workers", "1", "--host", "127.0.0.1", "--port", "0", "-E", "production",
    writeApp(APP, "adversarial.mjs")]);
  try {
    await floodWithoutReading(srv);
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});

async function floodWithoutReading(srv) {
  const c = await connect(srv);
  c.s.pause(); // read nothing: the 32 MiB answer to /big blocks the server's writes
  c.s.write(`GET /big HTTP/1.1\r\n${H}\r\n`);
  const batch = `GET / HTTP/1.1\r\n${H}X: ${"a".repeat(4000)}\r\n\r\n`.repeat(256); // 1 MiB, 256 requests
  const batches = 96;
  for (let i = 0; i < batches; i++) c.s.write(batch);
  // The kernel takes a few tens of MiB on loopback (tcp_rmem max 32 MiB here); a server that
  // keeps reading takes everything into its memory and leaves the client nothing buffered.
  await sleep(1000);
  assert.ok(c.s.writableLength > 24 * 1048576, `the server stopped reading (client still holds ${c.s.writableLength} bytes)`);
  // Now read: every request is answered, in order, and the connection stays usable.
  let answered = 0;
  let tail = "";
  c.s.removeAllListeners("data");
  const all = new Promise((resolve) => c.s.on("data", (d) => {
    const text = tail + d.toString("latin1");
    answered += (text.match(/HTTP\/1\.1 200 OK\r\n/g) ?? []).length;
    tail = text.slice(-20);
    if (answered >= 1 + 256 * batches) resolve();
  }));
  c.s.resume();
  await all;
  c.s.destroy();
}

test("pipelined requests (chunked with extension and trailer, Content-Length, plain) split at every byte boundary get the same answers", async () => {
  const input = `GET /a HTTP/1.1\r\n${H}X-Long: ${"v".repeat(30)}\r\n\r\n` +
    `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n` +
    `POST /echo HTTP/1.1\r\n${H}Content-Length: 4\r\n\r\nwxyz` + LAST;
  const want = ["GET /a", "POST 5:abcde", "POST 4:wxyz", "GET /last"];
  for (let i = 1; i < input.length; i++) {
    const c = await connect(server);
    c.s.setNoDelay(true);
    c.s.write(input.slice(0, i));
    await sleep(1); // two segments, so most splits reach the server as two reads
    c.s.write(input.slice(i));
    await c.done;
    assert.deepEqual(splitResponses(c.text).map((r) => r.body), want, `split at byte ${i}`);
  }
});

test("a client that disconnects cancels the response stream that never ends and aborts request.signal; the worker serves on", async () => {
  const srv = await startServer(["--workers", "1", "--host", "127.0.0.1", "--port", "0", "-E", "production",
    writeApp(APP, "adversarial.mjs")]);
  try {
    for (const request of [`GET /stream-forever HTTP/1.1\r\n${H}\r\n`, `GET /wait-abort HTTP/1.1\r\n${H}\r\n`]) {
      const c = await connect(srv);
      c.s.write(request);
      if (request.includes("forever")) await c.waitFor(/\r\n\r\n./);
      else await sleep(50); // the app has the request (no byte to wait for: it answers only on abort)
      c.s.destroy();
    }
    // Each probe is a round trip on a new connection: the server has seen the closes by the
    // time it answers one, give or take the order of events in one loop turn.
    let state = "";
    for (let i = 0; i < 50 && state !== "1,1"; i++) {
      state = splitResponses((await rawExchange(srv, `GET /__gone HTTP/1.1\r\n${H}Connection: close\r\n\r\n`)).text)[0].body;
    }
    assert.equal(state, "1,1", "stream cancelled, signal aborted");
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});

test("a statusText with latin1 letters goes out as latin1 bytes, like header values", async () => {
  const r = await rawExchange(server, `GET /latin1-reason HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
  const line = Buffer.from("HTTP/1.1 200 Caf\xe9\r\n", "latin1");
  assert.ok(r.data.subarray(0, line.length).equals(line), JSON.stringify(r.text.slice(0, 20)));
});
