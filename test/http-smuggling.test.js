// Request smuggling, black-box over raw sockets: every request's bytes are framed exactly one way
// (RFC 9112 §6.1-§6.3, §7.1), and whatever could be framed two ways is refused with a status and
// a closed connection, so no request can hide inside another's head, body, chunk lines or
// trailers (RFC 9112 §11.2). The app counts its calls (GET /__calls, not counted): a request
// smuggled past the framing shows up as an extra call. Each row states the final statuses in
// order and the app calls the bytes must produce, and ends with a `Connection: close` request
// that is answered only if nothing before it closed the connection; the exchange must end with
// the server closing it. A second table checks what a client sees of a refused framing (status,
// reason, Connection: close), and one test that the framing does not depend on how the bytes are
// split into reads. Limits on a body's size and the request head's own rules: http-framing.test.js.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startCountingApp, TABLE_LIMITS, countedRows, refusedRows, H, LAST, SMUGGLED, post, chunked } from "./http-app.js";
import { connect, sleep, splitResponses } from "./harness.js";

const teChunked = (te) => post(`${te}\r\n`, "3\r\nabc\r\n0\r\n\r\n");
/** U+212A KELVIN SIGN as UTF-8 bytes (a latin1 string): Unicode case folding maps it to "k". */
const KELVIN = "\xe2\x84\xaa";
/** 16 KiB: pg_decode_chunked's cap on chunk-extension bytes per body (wasm/src/batch.h). */
const CHUNK_EXT_MAX_BYTES = 16 * 1024;

let server;
before(async () => {
  server = await startCountingApp(TABLE_LIMITS);
});
after(async () => {
  const r = await server.stop();
  assert.equal(r.code, 0);
});

// [what, bytes sent before LAST, final statuses, app calls]
const ROWS = [
  // CL.TE and TE.CL: both framings in one request is an error, never a choice (RFC 9112 §6.1)
  ["CL.TE: Content-Length first, a chunked body hiding a request", post("Content-Length: 6\r\nTransfer-Encoding: chunked\r\n", `0\r\n\r\n${SMUGGLED}`), [400], 0],
  ["TE.CL: Transfer-Encoding first, a length that ends inside a chunk", post("Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", `23\r\n${SMUGGLED}\r\n0\r\n\r\n`), [400], 0],
  ["TE in HTTP/1.0 with CL", `POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc`, [400], 0],
  ["TE in HTTP/1.0 alone", `POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, [400], 0],

  // TE.TE: every spelling of Transfer-Encoding either frames as chunked or is refused
  ["TE in odd case", chunked("3\r\nabc\r\n0\r\n\r\n"), [200, 200], 2],
  ["TE name and value in odd case", teChunked("tRANSFER-eNCODING: ChUnKeD"), [200, 200], 2],
  ["TE with a leading tab", post("Transfer-Encoding:\tchunked\r\n", "3\r\nabc\r\n0\r\n\r\n"), [200, 200], 2],
  ["TE with a trailing tab", post("Transfer-Encoding: chunked\t\r\n", "3\r\nabc\r\n0\r\n\r\n"), [200, 200], 2],
  ["TE `chunked ` with a trailing space", teChunked("Transfer-Encoding: chunked "), [200, 200], 2],
  ["TE chunked, identity", post("Transfer-Encoding: chunked, identity\r\n", "3\r\nabc\r\n0\r\n\r\n"), [400], 0],
  ["TE identity, chunked", post("Transfer-Encoding: identity, chunked\r\n", "3\r\nabc\r\n0\r\n\r\n"), [501], 0],
  ["TE with tab-separated codings", teChunked("Transfer-Encoding: gzip\t,\tchunked"), [501], 0],
  ["TE chunked then TE identity lines", post("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n", "3\r\nabc\r\n0\r\n\r\n"), [400], 0],
  ["two TE: chunked lines", teChunked("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"), [400], 0],
  ["TE: chunked and an empty TE line", teChunked("Transfer-Encoding: chunked\r\nTransfer-Encoding: "), [200, 200], 2],
  ["an empty TE", post("Transfer-Encoding: \r\n", ""), [400], 0],
  ["TE \"chunked\" quoted", post("Transfer-Encoding: \"chunked\"\r\n", "3\r\nabc\r\n0\r\n\r\n"), [400], 0],
  ["TE chunked with a parameter", post("Transfer-Encoding: chunked;q=1\r\n", "3\r\nabc\r\n0\r\n\r\n"), [400], 0],
  ["TE xchunked", post("Transfer-Encoding: xchunked\r\n", "3\r\nabc\r\n0\r\n\r\n"), [400], 0],
  ["TE chunkedx", teChunked("Transfer-Encoding: chunkedx"), [400], 0],
  ["TE by obs-fold", post("Transfer-Encoding:\r\n chunked\r\n", "3\r\nabc\r\n0\r\n\r\n"), [400], 0],
  ["TE with a space before the colon", post("Transfer-Encoding : chunked\r\n", "3\r\nabc\r\n0\r\n\r\n"), [400], 0],
  ["TE with a tab before the colon", teChunked("Transfer-Encoding\t: chunked"), [400], 0],
  ["TE with a vertical tab before chunked", teChunked("Transfer-Encoding: \x0bchunked"), [400], 0],
  ["TE with a NUL after chunked", teChunked("Transfer-Encoding: chunked\x00"), [400], 0],
  ["TE chunKed with a Kelvin sign (UTF-8 bytes)", teChunked(`Transfer-Encoding: chun${KELVIN}ed`), [400], 0],
  ["TE with a non-breaking space before chunked", teChunked("Transfer-Encoding: \xa0chunked"), [400], 0],
  // Look-alike names are just other headers (RFC 9110 §5.1: names are tokens, `_` is not `-`):
  // the body is framed by Content-Length, or there is none and its bytes are the next request
  ["Transfer_Encoding with CL", post("Transfer_Encoding: chunked\r\nContent-Length: 3\r\n", "abc"), [200, 200], 2],
  ["Transfer_Encoding alone: no body, its bytes are a malformed request", post("Transfer_Encoding: chunked\r\n", "3\r\nabc\r\n0\r\n\r\n"), [200, 400], 1],
  ["Content_Length alone: no body, its bytes are the next request", post("Content_Length: 35\r\n", SMUGGLED.replace("smuggled", "next")), [200, 200, 200], 3],
  ["a Content-Length look-alike with a latin1 letter in its name", post("Content-Lengt\xe9: 3\r\n", "abc"), [400], 0],

  // Content-Length: one decimal number, once (RFC 9112 §6.3)
  ["CL -1", post("Content-Length: -1\r\n", ""), [400], 0],
  ["CL +1", post("Content-Length: +1\r\n", "a"), [400], 0],
  ["CL 0x1", post("Content-Length: 0x1\r\n", "a"), [400], 0],
  ["CL 1, 1", post("Content-Length: 1, 1\r\n", "a"), [400], 0],
  ["CL 5,5", post("Content-Length: 5,5\r\n", "hello"), [400], 0],
  ["CL 1 and CL 1 lines", post("Content-Length: 1\r\nContent-Length: 1\r\n", "a"), [400], 0],
  ["CL 1 and CL 35 lines", post("Content-Length: 1\r\nContent-Length: 35\r\n", `a${SMUGGLED}`), [400], 0],
  ["CL empty", post("Content-Length: \r\n", ""), [400], 0],
  ["CL 1e1", post("Content-Length: 1e1\r\n", "helloworld"), [400], 0],
  ["CL 5.0", post("Content-Length: 5.0\r\n", "hello"), [400], 0],
  ["CL with a vertical tab", post("Content-Length: \x0b5\r\n", "hello"), [400], 0],
  ["CL with OWS around it", post("Content-Length:  5 \r\n", "hello"), [200, 200], 2],
  ["CL with leading zeros", post("Content-Length: 005\r\n", "hello"), [200, 200], 2],
  ["CL hiding a request in its body", post("Content-Length: 35\r\n", SMUGGLED), [200, 200], 2],
  ["CL 0 followed by a request", post("Content-Length: 0\r\n", SMUGGLED.replace("smuggled", "next")), [200, 200, 200], 3],
  ["GET with a CL body hiding a request", `GET /echo HTTP/1.1\r\n${H}Content-Length: 35\r\n\r\n${SMUGGLED}`, [200, 200], 2],

  // chunk-size = 1*HEXDIG (RFC 9112 §7.1)
  ["chunk size 0x3", chunked("0x3\r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["chunk size with a leading space", chunked(" 3\r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["chunk size with a trailing space", chunked("3 \r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["chunk size -3", chunked("-3\r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["chunk size +3", chunked("+3\r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["chunk size with trailing junk", chunked("3x\r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["an overflowing chunk size", chunked("ffffffffffffffffff\r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["an overflow that wraps to a small size", chunked("10000000000000003\r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["chunk size with leading zeros", chunked("0003\r\nabc\r\n0000\r\n\r\n"), [200, 200], 2],
  ["a bare LF after the chunk size", chunked("3\nabc\r\n0\r\n\r\n"), [400], 1],
  ["a bare CR ending the chunk size", chunked("3\rabc\r\n0\r\n\r\n"), [400], 1],
  ["an empty chunk-size line", chunked("\r\n3\r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["a NUL in the chunk-size line", chunked("3\x00\r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["a chunk size past --max-body-size, its data never sent", chunked("3e9\r\n"), [413], 1],
  ["a huge chunk size, its data never sent", chunked("ffffffff\r\n"), [413], 1],
  // chunk data and the CRLF after it
  ["no CRLF after chunk data", chunked("3\r\nabcXX0\r\n\r\n"), [400], 1],
  ["a bare LF after chunk data", chunked("3\r\nabc\n0\r\n\r\n"), [400], 1],
  ["a bare CR after chunk data", chunked("3\r\nabc\r0\r\n\r\n"), [400], 1],
  ["chunk data shorter than its size", chunked("5\r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["a chunk hiding a request", chunked(`23\r\n${SMUGGLED}\r\n0\r\n\r\n`), [200, 200], 2],

  // chunk-ext = *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )
  ["a chunk extension", chunked("3;foo=bar\r\nabc\r\n0\r\n\r\n"), [200, 200], 2],
  ["chunk extensions with BWS and a quoted value", chunked("3 ; a = \"b \\\" c\" ; d\r\nabc\r\n0;z\r\n\r\n"), [200, 200], 2],
  ["an empty chunk extension", chunked("3;\r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["a chunk extension without a name", chunked("3;=a\r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["a chunk extension with an empty value", chunked("3;a=\r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["a chunk extension with a space in its value", chunked("3;a=b c\r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["a chunk extension with a non-token name", chunked("3;a/b\r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["an unterminated quoted chunk extension", chunked("3;a=\"b\r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["a quoted CRLF in a chunk extension", chunked("3;a=\"\r\n\"\r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["a control byte in a quoted chunk extension", chunked("3;a=\"\x01\"\r\nabc\r\n0\r\n\r\n"), [400], 1],
  ["a bare LF ending a chunk extension", chunked("3;a\nabc\r\n0\r\n\r\n"), [400], 1],
  ["a chunk extension hiding a request line", chunked(`3;${SMUGGLED}abc\r\n0\r\n\r\n`), [400], 1],
  ["a chunk extension over the cap, its line never ended", chunked(`1;a=${"b".repeat(CHUNK_EXT_MAX_BYTES)}`), [400], 1],
  ["chunk extensions adding up past the cap", chunked(`1;e=${"v".repeat(60)}\r\nx\r\n`.repeat(Math.ceil(CHUNK_EXT_MAX_BYTES / 63) + 1) + "0\r\n\r\n"), [400], 1],

  // trailer-section = *( field-name ":" OWS field-value OWS CRLF )
  ["a Content-Length trailer", chunked("3\r\nabc\r\n0\r\nContent-Length: 50\r\n\r\n"), [200, 200], 2],
  ["trailers hiding a request", chunked(`3\r\nabc\r\n0\r\n${SMUGGLED}`), [400], 1],
  ["an obs-fold trailer line", chunked("3\r\nabc\r\n0\r\nT: 1\r\n folded\r\n\r\n"), [400], 1],
  ["a trailer line with a space before the colon", chunked("3\r\nabc\r\n0\r\nT : 1\r\n\r\n"), [400], 1],
  ["a trailer line without a colon", chunked("3\r\nabc\r\n0\r\nT\r\n\r\n"), [400], 1],
  ["a bare CR in a trailer value", chunked("3\r\nabc\r\n0\r\nT: a\rb\r\n\r\n"), [400], 1],
  ["a bare LF ending a trailer line", chunked("3\r\nabc\r\n0\r\nT: 1\n\r\n"), [400], 1],
  ["a bare LF ending the chunked body", chunked("3\r\nabc\r\n0\r\n\n"), [400], 1],
  ["a NUL in a trailer value", chunked("3\r\nabc\r\n0\r\nT: \x00\r\n\r\n"), [400], 1],
  ["a trailer section past 16 KiB", chunked(`3\r\nabc\r\n0\r\n${"T: 0123456789\r\n".repeat(1200)}\r\n`), [400], 1],

  // head lines: what a lax parser would split or join differently
  ["obs-fold hiding a header", `GET / HTTP/1.1\r\n${H}X-A: a\r\n Transfer-Encoding: chunked\r\n\r\n`, [400], 0],
  ["a bare CR in a header value", `GET / HTTP/1.1\r\n${H}X-A: a\rTransfer-Encoding: chunked\r\n\r\n`, [400], 0],
  ["a bare CR in the request line", `GET /\r HTTP/1.1\r\n${H}\r\n`, [400], 0],
  // RFC 9112 §2.2 lets a recipient take a bare LF as a line end; the parser does, consistently
  ["bare LF line ends", `GET /lf HTTP/1.1\n${H.replace("\r\n", "\n")}\n`, [200, 200], 2],
  ["a header after a bare LF frames the body", `POST /echo HTTP/1.1\r\n${H}X-A: a\nContent-Length: 3\r\n\r\nabc`, [200, 200], 2],
  ["NUL in a header value", `GET / HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`, [400], 0],
  ["NUL in a header name", `GET / HTTP/1.1\r\n${H}X\x00A: b\r\n\r\n`, [400], 0],
  ["DEL in a header value", `GET / HTTP/1.1\r\n${H}X-A: a\x7fb\r\n\r\n`, [400], 0],
  ["a high byte in a header name", `GET / HTTP/1.1\r\n${H}X-\xe9: a\r\n\r\n`, [400], 0],
  ["NUL in the target", `GET /a\x00b HTTP/1.1\r\n${H}\r\n`, [400], 0],
  ["NUL in the method", `G\x00ET / HTTP/1.1\r\n${H}\r\n`, [400], 0],

  // a body the app does not read is still framed, skipped, and never parsed as requests
  ["an unread body with a request behind it", `POST /ignore HTTP/1.1\r\n${H}Content-Length: 35\r\n\r\n${SMUGGLED}`, [200, 200], 2],
  ["an unread chunked body with a request behind it", `POST /ignore HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n23\r\n${SMUGGLED}\r\n0\r\n\r\n`, [200, 200], 2],
  ["an unread 100-continue body sent anyway", `POST /ignore HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 35\r\n\r\n${SMUGGLED}`, [200, 200], 2],
];

countedRows(ROWS, () => server);

// The same rules seen from the client: a framing the server refuses gets its status, a short
// reason and Connection: close, and the connection closes before the request behind it.
refusedRows([
  ["Content-Length with a sign", `POST /echo HTTP/1.1\r\n${H}Content-Length: +3\r\n\r\nabc`, 400],
  ["Content-Length in hex", `POST /echo HTTP/1.1\r\n${H}Content-Length: 0x3\r\n\r\nabc`, 400],
  ["Content-Length as a list", `POST /echo HTTP/1.1\r\n${H}Content-Length: 3, 3\r\n\r\nabc`, 400],
  ["two equal Content-Length fields", `POST /echo HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc`, 400],
  ["two different Content-Length fields", `POST /echo HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`, 400],
  ["Transfer-Encoding with Content-Length", `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, 400],
  ["Content-Length with Transfer-Encoding", `POST /echo HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, 400],
  ["chunked not last", `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`, 400],
  ["chunked twice", `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n`, 400],
  ["chunked twice in two fields", `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`, 400],
  ["a coding we do not implement", `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n`, 501],
  ["a non-ASCII lookalike of chunked", `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: \xa0chunked\r\n\r\n`, 400],
  ["Transfer-Encoding in HTTP/1.0", `POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, 400],
  ["malformed chunk size", `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`, 400],
], () => server);

test("pipelined requests (chunked with extension and trailer, Content-Length, plain) split at every byte boundary get the same answers", async () => {
  const input = `GET /a HTTP/1.1\r\n${H}X-Long: ${"v".repeat(30)}\r\n\r\n` +
    `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n` +
    `POST /echo HTTP/1.1\r\n${H}Content-Length: 4\r\n\r\nwxyz` + LAST;
  const want = ["GET /a", "POST 5:abcde", "POST 4:wxyz", "GET /last"];
  for (let i = 1; i < input.length; i++) {
    const c = await connect(server);
    c.s.setNoDelay(true);
    c.s.write(input.slice(0, i));
    await sleep(1); // two segments, so most splits reach the server as two reads (the test's subject)
    c.s.write(input.slice(i));
    await c.done;
    assert.deepEqual(splitResponses(c.text).map((r) => r.body), want, `split at byte ${i}`);
  }
});

/** Send `bytes` and keep the connection open; resolves with what came back once the server closed it. */
async function sendAndWaitForClose(bytes) {
  const c = await connect(server);
  const started = Date.now();
  c.s.write(Buffer.from(bytes, "latin1"));
  await c.done;
  return { text: c.text, ms: Date.now() - started };
}

test("a chunk size past --max-body-size gets 413 when its line is read, not after its data or a timeout", async () => {
  const r = await sendAndWaitForClose(chunked("400\r\n"));
  assert.match(r.text, /^HTTP\/1\.1 413 /);
  assert.ok(r.ms < 400, `answered in ${r.ms} ms, before --timeout 0.5 could`);
});

test("chunk extensions past the cap get 400 while the line is still open, not after the body ends", async () => {
  const r = await sendAndWaitForClose(chunked(`1;a="${"b".repeat(CHUNK_EXT_MAX_BYTES)}`));
  assert.match(r.text, /^HTTP\/1\.1 400 /);
  assert.ok(r.ms < 400, `answered in ${r.ms} ms, before --timeout 0.5 could`);
});
