// Writes wasm/test/cases.json: the parser's case table, run natively (run-native.sh) and against
// parser.wasm from TypeScript. Every expectation here comes from upstream picohttpparser's rules (its
// picohttpparser.c and test.c) and RFC 9112's framing rules, never from running our parser: the hand-written cases spell results out,
// and the generated families compute them from a one-line rule (which bytes are tchar, which
// stop a value). Run `node wasm/test/make-cases.mjs` after editing and commit both files.
//
// Format (one object per case; strings are latin1: one char U+0000..U+00FF per byte):
//   request:  fn, name, input, last_len, [num_headers capacity, default 100], ret,
//             and for ret > 0: method, path, minor_version, headers [[name|null, value], ...];
//             for ret -2 optionally method (null = not set yet) and minor_version (partial output)
//   response: fn, name, input, last_len, [num_headers], ret, minor_version, status, msg, headers
//   headers:  fn, name, input, last_len, [num_headers], ret, headers
//   chunked:  fn, name, input, consume_trailer, ret, decoded (null: not checked, for some -1),
//             [bytewise: false], [ret_lp64: the result where size_t is 64-bit, if it differs]
//   For chunked ret >= 0 the undecoded rest (the input's last `ret` bytes) follows the payload.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const cases = [];
const hex = (b) => b.toString(16).padStart(2, "0");
const chr = (b) => String.fromCharCode(b);
const TCHAR_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;
const isTchar = (b) => b < 0x80 && TCHAR_RE.test(chr(b));
// a header value or reason phrase stops at a CTL other than HT, or DEL
const isValueStop = (b) => (b < 0x20 && b !== 0x09) || b === 0x7f;
const isTargetStop = (b) => b <= 0x20 || b === 0x7f;

function request(name, input, expect, extra = {}) {
  const c = { fn: "request", name, input, last_len: extra.last_len ?? 0 };
  if (extra.num_headers !== undefined) c.num_headers = extra.num_headers;
  if (typeof expect === "number") {
    c.ret = expect;
    if (extra.method !== undefined) c.method = extra.method;
    if (extra.minor_version !== undefined) c.minor_version = extra.minor_version;
  } else {
    // expect = [method, path, minor, headers, headLength?]
    const [method, path, minor_version, headers, ret] = expect;
    Object.assign(c, { ret: ret ?? input.length, method, path, minor_version, headers });
  }
  cases.push(c);
}
function response(name, input, expect, extra = {}) {
  const c = { fn: "response", name, input, last_len: extra.last_len ?? 0 };
  if (extra.num_headers !== undefined) c.num_headers = extra.num_headers;
  if (typeof expect === "number") {
    c.ret = expect;
  } else {
    const [minor_version, status, msg, headers, ret] = expect;
    Object.assign(c, { ret: ret ?? input.length, minor_version, status, msg, headers });
  }
  cases.push(c);
}
function headers(name, input, expect, extra = {}) {
  const c = { fn: "headers", name, input, last_len: extra.last_len ?? 0 };
  if (extra.num_headers !== undefined) c.num_headers = extra.num_headers;
  if (typeof expect === "number") c.ret = expect;
  else Object.assign(c, { ret: expect[1] ?? input.length, headers: expect[0] });
  cases.push(c);
}
function chunked(name, input, consume_trailer, ret, decoded, extra = {}) {
  cases.push({ fn: "chunked", name, input, consume_trailer, ret, decoded, ...extra });
}

// ---------------------------------------------------------------- requests (§5.2, test.c)
const R = "\r\n";
request("simple GET", "GET / HTTP/1.0\r\n\r\n", ["GET", "/", 0, []]);
request("partial: last LF missing", "GET / HTTP/1.0\r\n\r", -2);
request("headers incl. empty value", "GET /hoge HTTP/1.1\r\nHost: example.com\r\nCookie: \r\n\r\n",
  ["GET", "/hoge", 1, [["Host", "example.com"], ["Cookie", ""]]]);
request("multibyte value", "GET /hoge HTTP/1.1\r\nHost: example.com\r\nUser-Agent: \u00e3\u0081\u00b2\u00e3/1.0\r\n\r\n",
  ["GET", "/hoge", 1, [["Host", "example.com"], ["User-Agent", "\u00e3\u0081\u00b2\u00e3/1.0"]]]);
request("obs-fold line: NULL name, value keeps leading whitespace", "GET / HTTP/1.0\r\nfoo: \r\nfoo: b\r\n  \tc\r\n\r\n",
  ["GET", "/", 0, [["foo", ""], ["foo", "b"], [null, "  \tc"]]]);
request("obs-fold line with a tab", "GET / HTTP/1.1\r\na: b\r\n\tc d \r\n\r\n", ["GET", "/", 1, [["a", "b"], [null, "\tc d"]]]);
request("obs-fold line of whitespace only trims to empty", "GET / HTTP/1.1\r\na: b\r\n \t \r\n\r\n",
  ["GET", "/", 1, [["a", "b"], [null, ""]]]);
request("two obs-fold lines", "GET / HTTP/1.1\r\na: b\r\n c\r\n d\r\ne: f\r\n\r\n",
  ["GET", "/", 1, [["a", "b"], [null, " c"], [null, " d"], ["e", "f"]]]);
request("obs-fold as the first header line", "GET / HTTP/1.1\r\n a: b\r\n\r\n", -1);
request("tab-led first header line", "GET / HTTP/1.1\r\n\ta: b\r\n\r\n", -1);
request("space before the colon", "GET / HTTP/1.0\r\nfoo : ab\r\n\r\n", -1);
request("tab before the colon", "GET / HTTP/1.0\r\nfoo\t: ab\r\n\r\n", -1);
request("space inside a header name", "GET / HTTP/1.0\r\nfo o: ab\r\n\r\n", -1);

// incremental prefixes with their partial outputs (test.c "incomplete 1-8")
request("incomplete 1: method without SP", "GET", -2, { method: null, minor_version: -1 });
request("incomplete 2: method set once SP arrives", "GET ", -2, { method: "GET", minor_version: -1 });
request("incomplete 3", "GET /", -2, { method: "GET", minor_version: -1 });
request("incomplete 4", "GET / ", -2, { method: "GET", minor_version: -1 });
request("incomplete 5", "GET / H", -2, { method: "GET", minor_version: -1 });
request("incomplete 6", "GET / HTTP/1.", -2, { method: "GET", minor_version: -1 });
request("incomplete 7: version needs 9 bytes", "GET / HTTP/1.0", -2, { method: "GET", minor_version: -1 });
request("incomplete 8: version parsed with the CR", "GET / HTTP/1.0\r", -2, { method: "GET", minor_version: 0 });
request("incomplete: empty input", "", -2, { method: null, minor_version: -1 });
request("incomplete: lone CR of the leading empty line", "\r", -2);
request("incomplete: leading LF only", "\n", -2);
request("incomplete: header line without line end", "GET / HTTP/1.1\r\nHost: a", -2);
request("incomplete: header name without colon", "GET / HTTP/1.1\r\nHost", -2);
request("incomplete: after the colon", "GET / HTTP/1.1\r\nHost:", -2);
request("incomplete: whitespace after the colon", "GET / HTTP/1.1\r\nHost: \t", -2);
request("incomplete: CR of a header line", "GET / HTTP/1.1\r\nHost: a\r", -2);
request("incomplete: CR of the blank line", "GET / HTTP/1.1\r\nHost: a\r\n\r", -2);
request("incomplete: multiple spaces after method", "GET   ", -2);
request("incomplete: multiple spaces after target", "GET /   ", -2);
request("version check waits for 9 bytes even when wrong", "GET / XTTP/1.0", -2);
request("wrong version once 9 bytes are there", "GET / XTTP/1.0\r", -1);
request("empty method waits for the target before failing", " /", -2);

// slowloris countermeasure (last_len)
const slow = "GET /hoge HTTP/1.0\r\n\r\n";
request("slowloris (incomplete)", slow.slice(0, -1), -2, { last_len: slow.length - 2 });
request("slowloris (complete)", slow, ["GET", "/hoge", 0, []], { last_len: slow.length - 1 });
request("last_len = len, blank line at the end", slow, ["GET", "/hoge", 0, []], { last_len: slow.length });
request("last_len = len + 2 (scan starts at the last byte)", slow, -2, { last_len: slow.length + 2 });
request("last_len = len + 3 (scan starts at the end)", slow, -2, { last_len: slow.length + 3 });
request("last_len 1 scans from the start", slow, ["GET", "/hoge", 0, []], { last_len: 1 });
request("last_len 2 scans from the start", slow, ["GET", "/hoge", 0, []], { last_len: 2 });
request("last_len 3 scans from the start", slow, ["GET", "/hoge", 0, []], { last_len: 3 });
request("blank line before last_len - 3 is not seen", slow + "GET", -2, { last_len: slow.length + 3 });
request("blank line ending at last_len - 3 is not seen", slow + "XYZ", -2, { last_len: slow.length + 3 });
request("blank line seen when the scan starts on its first LF", slow + "GET", ["GET", "/hoge", 0, [], slow.length],
  { last_len: slow.length });
request("blank line missed when the scan starts on its last LF", slow + "GET", -2, { last_len: slow.length + 2 });
request("without last_len the head before pipelined bytes parses", slow + "GET", ["GET", "/hoge", 0, [], slow.length]);
request("is_complete: CR not followed by LF is an error", "GET / HTTP/1.1\r\nA: b\rX\r\n\r\n", -1, { last_len: 1 });
request("is_complete: bare LF blank line counts", "GET / HTTP/1.1\nA: b\n\n", ["GET", "/", 1, [["A", "b"]]], { last_len: 5 });
request("is_complete: CRLF then LF counts", "GET / HTTP/1.1\r\nA: b\r\n\n", ["GET", "/", 1, [["A", "b"]]], { last_len: 5 });
request("is_complete ok but the head is malformed", "GET / HTTP/1.1\r\nA : b\r\n\r\n", -1, { last_len: 5 });
request("is_complete ok on a blank line inside a broken head", "G@T / HTTP/1.1\r\n\r\n", -1, { last_len: 1 });
request("is_complete: only one line end so far", "GET / HTTP/1.1\r\n", -2, { last_len: 4 });

// method, target, separators
request("empty method", " / HTTP/1.0\r\n\r\n", -1);
request("empty request-target", "GET  HTTP/1.0\r\n\r\n", -1);
request("NUL in method", "G\u0000T / HTTP/1.0\r\n\r\n", -1);
request("tab in method is not a separator", "G\tT / HTTP/1.0\r\n\r\n", -1);
request("tab between method and target", "GET\t/ HTTP/1.0\r\n\r\n", -1);
request("tab between target and version", "GET /\tHTTP/1.0\r\n\r\n", -1);
request("method starting with a colon", ":GET / HTTP/1.0\r\n\r\n", -1);
request("method with every tchar punctuation", "!#$%&'*+-.^_`|~ / HTTP/1.1\r\n\r\n", ["!#$%&'*+-.^_`|~", "/", 1, []]);
request("M-SEARCH method", "M-SEARCH * HTTP/1.1\r\n\r\n", ["M-SEARCH", "*", 1, []]);
request("lower-case method", "get / HTTP/1.1\r\n\r\n", ["get", "/", 1, []]);
request("long method over 16 bytes", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 / HTTP/1.1\r\n\r\n",
  ["ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "/", 1, []]);
request("method with a byte >= 0x80", "G\u00e9T / HTTP/1.1\r\n\r\n", -1);
request("DEL in uri-path", "GET /\u007fhello HTTP/1.0\r\n\r\n", -1);
request("DEL in a long target (past 16 bytes)", "GET /0123456789abcdef0123456789\u007f HTTP/1.0\r\n\r\n", -1);
request("NUL in a long target", "GET /0123456789abcdef01234\u0000 HTTP/1.0\r\n\r\n", -1);
request("tab in target", "GET /a\tb HTTP/1.0\r\n\r\n", -1);
request("MSB chars in target and value", "GET /\u00a0 HTTP/1.0\r\nh: c\u00a2y\r\n\r\n", ["GET", "/\u00a0", 0, [["h", "c\u00a2y"]]]);
request("raw UTF-8 in target", "GET /\u00e6\u0097\u00a5\u00e6\u009c\u00ac HTTP/1.1\r\n\r\n", ["GET", "/\u00e6\u0097\u00a5\u00e6\u009c\u00ac", 1, []]);
request("fragment kept in target", "GET /a?b=c#frag HTTP/1.1\r\n\r\n", ["GET", "/a?b=c#frag", 1, []]);
request("asterisk-form with any method", "GET * HTTP/1.1\r\n\r\n", ["GET", "*", 1, []]);
request("authority-form", "CONNECT example.com:443 HTTP/1.1\r\n\r\n", ["CONNECT", "example.com:443", 1, []]);
request("absolute-form", "GET http://example.com/x?y HTTP/1.1\r\n\r\n", ["GET", "http://example.com/x?y", 1, []]);
request("target without a leading slash", "GET abc HTTP/1.1\r\n\r\n", ["GET", "abc", 1, []]);
request("multiple spaces between tokens", "GET   /   HTTP/1.0\r\n\r\n", ["GET", "/", 0, []]);
request("long target (over 64 bytes)", "GET /" + "a".repeat(100) + "?q=" + "b".repeat(50) + " HTTP/1.1\r\n\r\n",
  ["GET", "/" + "a".repeat(100) + "?q=" + "b".repeat(50), 1, []]);
request("SP at the end of the request line", "GET / HTTP/1.1 \r\n\r\n", -1);
request("no version", "GET /\r\n\r\n", -1);
request("HTTP/0.9-style request line", "GET / \r\n\r\n", -2);

// version
request("HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", ["GET", "/", 1, []]);
request("minor version 9 is returned as is", "GET / HTTP/1.9\r\n\r\n", ["GET", "/", 9, []]);
request("minor version 2 is returned as is", "GET / HTTP/1.2\r\n\r\n", ["GET", "/", 2, []]);
request("two-digit minor version", "GET / HTTP/1.10\r\n\r\n", -1);
request("major version 2", "GET / HTTP/2.0\r\n\r\n", -1);
request("major version 0", "GET / HTTP/0.9\r\n\r\n", -1);
request("lower-case http", "GET / http/1.1\r\n\r\n", -1);
request("no minor digit", "GET / HTTP/1.\r\n\r\n", -1);
request("letter as minor", "GET / HTTP/1.x\r\n\r\n", -1);
request("space inside version", "GET / HTTP /1.1\r\n\r\n", -1);

// line endings and the leading empty line
request("bare LF everywhere", "GET / HTTP/1.1\nHost: a\nX: y\n\n", ["GET", "/", 1, [["Host", "a"], ["X", "y"]]]);
request("mixed CRLF and LF", "GET / HTTP/1.1\nHost: a\r\n\n", ["GET", "/", 1, [["Host", "a"]]]);
request("one leading CRLF is skipped", "\r\nGET / HTTP/1.1\r\n\r\n", ["GET", "/", 1, []]);
request("one leading LF is skipped", "\nGET / HTTP/1.1\r\n\r\n", ["GET", "/", 1, []]);
request("two leading CRLFs", "\r\n\r\nGET / HTTP/1.1\r\n\r\n", -1);
request("two leading LFs", "\n\nGET / HTTP/1.1\r\n\r\n", -1);
request("leading CR not followed by LF", "\rGET / HTTP/1.1\r\n\r\n", -1);
request("leading space", " GET / HTTP/1.1\r\n\r\n", -1);
request("CR not followed by LF after the version", "GET / HTTP/1.1\rX\r\n\r\n", -1);
request("CR CR LF after the version", "GET / HTTP/1.1\r\r\n\r\n", -1);
request("CR not followed by LF in a header line", "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", -1);
request("CR not followed by LF in the blank line", "GET / HTTP/1.1\r\nA: b\r\n\rX", -1);
request("CR in the middle of a long value", "GET / HTTP/1.1\r\nA: 0123456789abcdef0123\rc\r\n\r\n", -1);
request("body bytes after the head are not consumed", "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
  ["POST", "/p", 1, [["Content-Length", "5"]], "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\n".length]);
request("pipelined request after the head", "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", ["GET", "/a", 1, [], 19]);

// header names
request("empty header name", "GET / HTTP/1.0\r\n:a\r\n\r\n", -1);
request("header name (space only)", "GET / HTTP/1.0\r\n :a\r\n\r\n", -1);
request("NUL in header name", "GET / HTTP/1.0\r\na\u0000b: c\r\n\r\n", -1);
request("ESC in header name", "GET / HTTP/1.0\r\na\u001bb: c\r\n\r\n", -1);
request("slash in header name", "GET / HTTP/1.0\r\n/: 1\r\n\r\n", -1);
request("| and ~ in header name", "GET / HTTP/1.0\r\n|~: 1\r\n\r\n", ["GET", "/", 0, [["|~", "1"]]]);
request("{ in header name", "GET / HTTP/1.0\r\n{: 1\r\n\r\n", -1);
request("byte >= 0x80 in header name", "GET / HTTP/1.0\r\nn\u00e4me: 1\r\n\r\n", -1);
request("header line without a colon", "GET / HTTP/1.0\r\nfoo\r\n\r\n", -1);
request("header name of every tchar", "GET / HTTP/1.0\r\n!#$%&'*+-.^_`|~09AZaz: v\r\n\r\n", ["GET", "/", 0, [["!#$%&'*+-.^_`|~09AZaz", "v"]]]);
request("long header name (over 32 bytes)", "GET / HTTP/1.1\r\nX-" + "Long-Name".repeat(6) + ": v\r\n\r\n",
  ["GET", "/", 1, [["X-" + "Long-Name".repeat(6), "v"]]]);
request("bad byte late in a long header name", "GET / HTTP/1.1\r\nX-Long-Header-Name-Here-" + "\u0001" + ": v\r\n\r\n", -1);
request("underscore in header name", "GET / HTTP/1.1\r\nContent_Length: 5\r\n\r\n", ["GET", "/", 1, [["Content_Length", "5"]]]);
request("no space after the colon", "GET / HTTP/1.1\r\na:b\r\n\r\n", ["GET", "/", 1, [["a", "b"]]]);
request("colon inside the value", "GET / HTTP/1.1\r\na: b:c\r\n\r\n", ["GET", "/", 1, [["a", "b:c"]]]);
request("double colon", "GET / HTTP/1.1\r\na::b\r\n\r\n", ["GET", "/", 1, [["a", ":b"]]]);

// header values
request("NUL in header value", "GET / HTTP/1.0\r\nab: c\u0000d\r\n\r\n", -1);
request("ESC in header value", "GET / HTTP/1.0\r\nab: c\u001b\r\n\r\n", -1);
request("DEL in header value", "GET / HTTP/1.0\r\nab: c\u007fd\r\n\r\n", -1);
request("VT in header value", "GET / HTTP/1.0\r\nab: c\u000bd\r\n\r\n", -1);
request("leading and trailing whitespace excluded", "GET / HTTP/1.0\r\nfoo: a \t \r\n\r\n", ["GET", "/", 0, [["foo", "a"]]]);
request("inner whitespace kept", "GET / HTTP/1.0\r\nfoo: \t a \t b \t\r\n\r\n", ["GET", "/", 0, [["foo", "a \t b"]]]);
request("whitespace-only value", "GET / HTTP/1.0\r\nfoo:  \t \r\n\r\n", ["GET", "/", 0, [["foo", ""]]]);
request("empty value without space", "GET / HTTP/1.0\r\nfoo:\r\n\r\n", ["GET", "/", 0, [["foo", ""]]]);
request("empty value with bare LF", "GET / HTTP/1.0\r\nfoo:\n\n", ["GET", "/", 0, [["foo", ""]]]);
request("long value with a tab past 16 bytes", "GET / HTTP/1.1\r\nUA: 0123456789abcdef\t0123456789abcdef\r\n\r\n",
  ["GET", "/", 1, [["UA", "0123456789abcdef\t0123456789abcdef"]]]);
request("DEL late in a long value", "GET / HTTP/1.1\r\nUA: 0123456789abcdef0123456789abcdef\u007f\r\n\r\n", -1);
request("NUL at the end of a 16-byte block in a value", "GET / HTTP/1.1\r\nUA: 0123456789abcde\u0000\r\n\r\n", -1);
request("bytes 0x80-0xff in value", "GET / HTTP/1.1\r\nv: " + Array.from({ length: 128 }, (_, i) => chr(0x80 + i)).join("") + "\r\n\r\n",
  ["GET", "/", 1, [["v", Array.from({ length: 128 }, (_, i) => chr(0x80 + i)).join("")]]]);
request("all printable ASCII in value", "GET / HTTP/1.1\r\nv: " + Array.from({ length: 95 }, (_, i) => chr(0x20 + i)).join("") + "\r\n\r\n",
  ["GET", "/", 1, [["v", Array.from({ length: 94 }, (_, i) => chr(0x21 + i)).join("")]]]);

// header capacity (in/out num_headers; exceeding it is -1, not -2)
const three = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
request("capacity 3, 3 headers", three, ["GET", "/", 1, [["A", "1"], ["B", "2"], ["C", "3"]]], { num_headers: 3 });
request("capacity 2, 3 headers", three, -1, { num_headers: 2 });
request("capacity 0, no headers", "GET / HTTP/1.1\r\n\r\n", ["GET", "/", 1, []], { num_headers: 0 });
request("capacity 0, one header", "GET / HTTP/1.1\r\nA: 1\r\n\r\n", -1, { num_headers: 0 });
request("capacity reached: next line's first byte is -1 already", "GET / HTTP/1.1\r\nA: 1\r\nB", -1, { num_headers: 1 });
request("capacity reached, waiting for the blank line", "GET / HTTP/1.1\r\nA: 1\r\n", -2, { num_headers: 1 });
request("capacity reached, CR of the blank line", "GET / HTTP/1.1\r\nA: 1\r\n\r", -2, { num_headers: 1 });
request("obs-fold line takes a slot", "GET / HTTP/1.1\r\nA: 1\r\n 2\r\n\r\n", -1, { num_headers: 1 });
request("capacity overflow wins over a later syntax error", "GET / HTTP/1.1\r\nA: 1\r\nB : 2\r\n\r\n", -1, { num_headers: 1 });
{
  const hs = Array.from({ length: 100 }, (_, i) => [`H${i}`, `v${i}`]);
  const head = "GET / HTTP/1.1\r\n" + hs.map(([n, v]) => `${n}: ${v}\r\n`).join("") + "\r\n";
  request("100 headers with the default capacity", head, ["GET", "/", 1, hs]);
  const head101 = "GET / HTTP/1.1\r\n" + hs.map(([n, v]) => `${n}: ${v}\r\n`).join("") + "X: y\r\n\r\n";
  request("101 headers with the default capacity", head101, -1);
}

// a realistic browser request
const browser =
  "GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n" +
  "Host: www.kittyhell.com\r\n" +
  "User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n" +
  "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
  "Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n" +
  "Accept-Encoding: gzip,deflate\r\n" +
  "Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n" +
  "Keep-Alive: 115\r\n" +
  "Connection: keep-alive\r\n" +
  "Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; __utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; __utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|utmcct=/reader/|utmcmd=referral\r\n" +
  "\r\n";
const browserHeaders = browser.split("\r\n").slice(1, -2).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 2)]);
request("browser request", browser, ["GET", "/wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg", 1, browserHeaders]);

// every strict prefix of a request with most features is -2, with test.c's partial outputs
const full = "\r\nPOST   /a%20b?c=d#e   HTTP/1.1\r\nHost: example.com\r\nX-Long: " + "v".repeat(40) +
  " \t\r\n  folded\r\nEmpty:\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n\r\n";
request("feature-rich request", full, ["POST", "/a%20b?c=d#e", 1, [["Host", "example.com"], ["X-Long", "v".repeat(40)],
  [null, "  folded"], ["Empty", ""], ["User-Agent", "Mozilla/5.0 (X11; Linux x86_64)"]]]);
{
  const methodSet = full.indexOf("POST ") + 5; // the method is output once its SP is there
  const versionAt = full.indexOf("HTTP/1.1");
  for (let i = 0; i < full.length; ++i) {
    request(`prefix ${i} of the feature-rich request`, full.slice(0, i), -2,
      { method: i >= methodSet ? "POST" : null, minor_version: i >= versionAt + 9 ? 1 : -1 });
    // the same prefixes as a slowloris client sends them: one more byte per call
    if (i > 0) request(`prefix ${i}, last_len ${i - 1}`, full.slice(0, i), -2, { last_len: i - 1 });
  }
  request("feature-rich request, last_len len - 1", full, ["POST", "/a%20b?c=d#e", 1, [["Host", "example.com"],
    ["X-Long", "v".repeat(40)], [null, "  folded"], ["Empty", ""], ["User-Agent", "Mozilla/5.0 (X11; Linux x86_64)"]]],
  { last_len: full.length - 1 });
}

// byte families: one case per byte value, expectation from the character-class rule
for (let b = 0; b < 256; ++b) {
  const input = `G${chr(b)}T / HTTP/1.1\r\n\r\n`;
  if (b === 0x20) request("method byte 0x20 (splits the method)", input, -1);
  else request(`method byte 0x${hex(b)}`, input, isTchar(b) ? [`G${chr(b)}T`, "/", 1, []] : -1);
}
for (let b = 0; b < 256; ++b) {
  // short target (scalar path) and one past 16 bytes (SIMD path in parser.wasm)
  for (const pre of ["/a", "/0123456789abcdefghij"]) {
    const input = `GET ${pre}${chr(b)}b HTTP/1.1\r\n\r\n`;
    const what = `target byte 0x${hex(b)} after ${pre.length} bytes`;
    // SP ends the target early; the version then starts at "b HTTP/1.1"
    if (isTargetStop(b)) request(what, input, -1);
    else request(what, input, ["GET", `${pre}${chr(b)}b`, 1, []]);
  }
}
for (let b = 0; b < 256; ++b) {
  for (const pre of ["a", "X-Custom-Header-Nam"]) {
    const input = `GET / HTTP/1.1\r\n${pre}${chr(b)}b: c\r\n\r\n`;
    const what = `header-name byte 0x${hex(b)} after ${pre.length} bytes`;
    if (b === 0x3a) request(what, input, ["GET", "/", 1, [[pre, "b: c"]]]);
    else request(what, input, isTchar(b) ? ["GET", "/", 1, [[`${pre}${chr(b)}b`, "c"]]] : -1);
  }
}
for (let b = 0; b < 256; ++b) {
  for (const pre of ["a", "0123456789abcdefghi"]) {
    const input = `GET / HTTP/1.1\r\nh: ${pre}${chr(b)}b\r\n\r\n`;
    const what = `header-value byte 0x${hex(b)} after ${pre.length} bytes`;
    // CR must be followed by LF; LF ends the line and "b" then is a header line without a colon
    if (isValueStop(b)) request(what, input, -1);
    else request(what, input, ["GET", "/", 1, [["h", `${pre}${chr(b)}b`]]]);
  }
}

// ---------------------------------------------------------------- responses
response("simple", "HTTP/1.0 200 OK\r\n\r\n", [0, 200, "OK", []]);
response("partial", "HTTP/1.0 200 OK\r\n\r", -2);
response("headers", "HTTP/1.1 200 OK\r\nHost: example.com\r\nCookie: \r\n\r\n", [1, 200, "OK", [["Host", "example.com"], ["Cookie", ""]]]);
response("multiline", "HTTP/1.0 200 OK\r\nfoo: \r\nfoo: b\r\n  \tc\r\n\r\n", [0, 200, "OK", [["foo", ""], ["foo", "b"], [null, "  \tc"]]]);
response("internal server error", "HTTP/1.0 500 Internal Server Error\r\n\r\n", [0, 500, "Internal Server Error", []]);
const respPrefixes = ["H", "HTTP/1.", "HTTP/1.1", "HTTP/1.1 ", "HTTP/1.1 2", "HTTP/1.1 200", "HTTP/1.1 200 ",
  "HTTP/1.1 200 O", "HTTP/1.1 200 OK\r", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\n", "HTTP/1.1 200 OK\r\nA: 1\r",
  "HTTP/1.1 200 OK\r\nA: 1\r\n", "", "HTTP/1.1   ", "HTTP/1.1 200\r"];
respPrefixes.forEach((p, i) => response(`incomplete ${i + 1}`, p, -2));
response("slowloris (incomplete)", "HTTP/1.0 200 OK\r\n\r", -2, { last_len: "HTTP/1.0 200 OK\r\n\r".length - 1 });
response("slowloris (complete)", "HTTP/1.0 200 OK\r\n\r\n", [0, 200, "OK", []], { last_len: "HTTP/1.0 200 OK\r\n\r\n".length - 1 });
response("invalid http version", "HTTP/1. 200 OK\r\n\r\n", -1);
response("invalid http version 2", "HTTP/1.2z 200 OK\r\n\r\n", -1);
response("no status code", "HTTP/1.1  OK\r\n\r\n", -1);
response("missing reason accepted", "HTTP/1.1 200\r\n\r\n", [1, 200, "", []]);
response("missing reason with bare LF", "HTTP/1.1 200\n\n", [1, 200, "", []]);
response("garbage after status 1", "HTTP/1.1 200X\r\n\r\n", -1);
response("garbage after status 2", "HTTP/1.1 200X \r\n\r\n", -1);
response("garbage after status 3", "HTTP/1.1 200X OK\r\n\r\n", -1);
response("four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", -1);
response("two-digit status", "HTTP/1.1 20 OK\r\n\r\n", -1);
response("tab after status", "HTTP/1.1 200\tOK\r\n\r\n", -1);
response("tab after version", "HTTP/1.1\t200 OK\r\n\r\n", -1);
response("no SP after version", "HTTP/1.1\r\n\r\n", -1);
response("value trimming", "HTTP/1.1 200 OK\r\nbar: \t b\t \t\r\n\r\n", [1, 200, "OK", [["bar", "b"]]]);
response("multiple spaces between tokens", "HTTP/1.1   200   OK\r\n\r\n", [1, 200, "OK", []]);
response("reason of spaces only", "HTTP/1.1 200   \r\n\r\n", [1, 200, "", []]);
response("trailing spaces of the reason are kept", "HTTP/1.1 200 OK  \r\n\r\n", [1, 200, "OK  ", []]);
response("tab inside reason", "HTTP/1.1 404 Not\tFound\r\n\r\n", [1, 404, "Not\tFound", []]);
response("MSB bytes in reason", "HTTP/1.1 200 \u00e9t\u00e9\r\n\r\n", [1, 200, "\u00e9t\u00e9", []]);
response("DEL in reason", "HTTP/1.1 200 O\u007fK\r\n\r\n", -1);
response("CR not followed by LF in status line", "HTTP/1.1 200 OK\rX\r\n\r\n", -1);
// upstream writes msg/msg_len only once the line end is confirmed, so on these two it leaves
// msg_len 0; this table cannot express msg_len on a failure, test/parser-oracle.test.js checks it
response("reason phrase cut after its CR", "HTTP/1.1 200 OK\r", -2);
response("CTL inside the reason phrase", "HTTP/1.1 200 O\u0001K\r\n\r\n", -1);
response("status 000", "HTTP/1.1 000 X\r\n\r\n", [1, 0, "X", []]);
response("status 999", "HTTP/1.1 999 X\r\n\r\n", [1, 999, "X", []]);
response("status 101 with headers", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
  [1, 101, "Switching Protocols", [["Upgrade", "websocket"], ["Connection", "Upgrade"]]]);
response("minor version 0", "HTTP/1.0 204 No Content\r\n\r\n", [0, 204, "No Content", []]);
response("HTTP/2.0 status line", "HTTP/2.0 200 OK\r\n\r\n", -1);
response("leading CRLF is not skipped", "\r\nHTTP/1.1 200 OK\r\n\r\n", -1);
response("letters as status", "HTTP/1.1 abc OK\r\n\r\n", -1);
response("body after the head", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", [1, 200, "OK", [["Content-Length", "2"]], 38]);
response("capacity 1, 2 headers", "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n", -1, { num_headers: 1 });
response("space before colon", "HTTP/1.1 200 OK\r\nA : 1\r\n\r\n", -1);
response("bare LF everywhere", "HTTP/1.1 200 OK\nA: 1\n\n", [1, 200, "OK", [["A", "1"]]]);
{
  const resp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n  fold\r\nX: y\r\n\r\n";
  for (let i = 0; i < resp.length; ++i) response(`prefix ${i} of a response`, resp.slice(0, i), -2);
}

// ---------------------------------------------------------------- phr_parse_headers
headers("simple", "Host: example.com\r\nCookie: \r\n\r\n", [[["Host", "example.com"], ["Cookie", ""]]]);
headers("slowloris", "Host: example.com\r\nCookie: \r\n\r\n", [[["Host", "example.com"], ["Cookie", ""]]], { last_len: 1 });
headers("partial", "Host: example.com\r\nCookie: \r\n\r", -2);
headers("error", "Host: e\u007fample.com\r\nCookie: \r\n\r", -1);
headers("empty input", "", -2);
headers("just CRLF", "\r\n", [[]]);
headers("just LF", "\n", [[]]);
headers("lone CR", "\r", -2);
headers("CR then garbage", "\rX", -1);
headers("obs-fold as first line", " a: b\r\n\r\n", -1);
headers("obs-fold after a header", "a: b\r\n c\r\n\r\n", [[["a", "b"], [null, " c"]]]);
headers("trailing bytes not consumed", "a: b\r\n\r\nrest", [[["a", "b"]], 8]);
headers("capacity 1 of 2", "a: b\r\nc: d\r\n\r\n", -1, { num_headers: 1 });
headers("capacity 2 of 2", "a: b\r\nc: d\r\n\r\n", [[["a", "b"], ["c", "d"]]], { num_headers: 2 });
headers("last_len past the blank line", "a: b\r\n\r\nxxxxx", -2, { last_len: 13 });
headers("request line is not a header", "GET / HTTP/1.1\r\n\r\n", -1);

// ---------------------------------------------------------------- chunked (§5.2, §5.4)
chunked("single chunk, no trailer consumption", "b\r\nhello world\r\n0\r\n", false, 0, "hello world");
chunked("two chunks", "6\r\nhello \r\n5\r\nworld\r\n0\r\n", false, 0, "hello world");
chunked("extension", "6;comment=hi\r\nhello \r\n5\r\nworld\r\n0\r\n", false, 0, "hello world");
chunked("BWS before extension", "6 ; comment\r\nhello \r\n5\r\nworld\r\n0\r\n", false, 0, "hello world");
chunked("trailers left when not consuming", "6\r\nhello \r\n5\r\nworld\r\n0\r\na: b\r\nc: d\r\n\r\n", false, 14, "hello world");
chunked("blank line left when not consuming", "b\r\nhello world\r\n0\r\n\r\n", false, 2, "hello world");
chunked("trailer bytes become leftover", "1\r\nx\r\n0\r\nGET /smuggled HTTP/1.1\r\n\r\n", false,
  "GET /smuggled HTTP/1.1\r\n\r\n".length, "x");
chunked("consume: no final blank line", "b\r\nhello world\r\n0\r\n", true, -2, "hello world");
chunked("consume: two chunks, no final blank line", "6\r\nhello \r\n5\r\nworld\r\n0\r\n", true, -2, "hello world");
chunked("consume: extension, no final blank line", "6;comment=hi\r\nhello \r\n5\r\nworld\r\n0\r\n", true, -2, "hello world");
chunked("consume: final blank line", "b\r\nhello world\r\n0\r\n\r\n", true, 0, "hello world");
chunked("consume: trailers", "6\r\nhello \r\n5\r\nworld\r\n0\r\na: b\r\nc: d\r\n\r\n", true, 0, "hello world");
chunked("consume: bare LF blank line after last chunk", "b\r\nhello world\r\n0\r\n\n", true, 0, "hello world");
chunked("consume: bare LF in trailers", "6\r\nhello \r\n5\r\nworld\r\n0\r\na: b\nc: d\n\n", true, 0, "hello world");
chunked("consume: trailer lines are not checked", "1\r\nx\r\n0\r\n\u0000\u007f junk : \r\n\r\n", true, 0, "x");
chunked("consume: CRs before the final LF", "1\r\nx\r\n0\r\n\r\r\r\n", true, 0, "x");
chunked("consume: CRs then a trailer line", "1\r\nx\r\n0\r\n\r\rX\r\n\r\n", true, 0, "x");
chunked("consume: incomplete trailer line", "1\r\nx\r\n0\r\na: b", true, -2, "x");
chunked("leftover: next request after the body", "5\r\nabcde\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", true, 18, "abcde");
chunked("leftover: after trailers", "5\r\nabcde\r\n0\r\nT: 1\r\n\r\nXYZ", true, 3, "abcde");
chunked("upper-case hex", "A\r\n0123456789\r\n0\r\n\r\n", true, 0, "0123456789");
chunked("mixed-case hex size", "1a\r\n" + "z".repeat(26) + "\r\n0\r\n\r\n", true, 0, "z".repeat(26));
chunked("leading zeros count as digits", "0000005\r\nhello\r\n0\r\n\r\n", true, 0, "hello");
chunked("8 digits", "00000005\r\nhello\r\n0\r\n\r\n", true, 0, "hello");
chunked("9 digits: too many on wasm32", "000000005\r\nhello\r\n0\r\n\r\n", true, -1, null, { ret_lp64: 0 });
chunked("size ffffffff waits for data", "6\r\nhello \r\nffffffff\r\nabcdefg", true, -2, "hello abcdefg");
chunked("size fffffffff (9 digits)", "6\r\nhello \r\nfffffffff\r\nabcdefg", true, -1, null, { ret_lp64: -2 });
chunked("16 f's", "6\r\nhello \r\nffffffffffffffff\r\nabcdefg", true, -1, null, { ret_lp64: -2 });
chunked("17 f's", "6\r\nhello \r\nfffffffffffffffff\r\nabcdefg", true, -1, null);
chunked("non-hex size", "z\r\nabcdefg", true, -1, "");
chunked("1x", "1x\r\na\r\n0\r\n", true, -1, null);
chunked("empty size line", "\r\nabc", true, -1, "");
chunked("space before the size", " 5\r\nhello\r\n0\r\n\r\n", true, -1, "");
chunked("0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", true, -1, "");
chunked("negative size", "-5\r\nhello\r\n0\r\n\r\n", true, -1, "");
chunked("plus sign", "+5\r\nhello\r\n0\r\n\r\n", true, -1, "");
chunked("junk after size and SP: phr_decode_chunked skips it; the server's strict decoder refuses it", "5 junk\r\nhello\r\n0\r\n\r\n", true, 0, "hello");
chunked("SP after size", "5 \r\nhello\r\n0\r\n\r\n", true, 0, "hello");
chunked("tab after size", "5\t\r\nhello\r\n0\r\n\r\n", true, 0, "hello");
chunked("empty extension", "5;\r\nhello\r\n0\r\n\r\n", true, 0, "hello");
chunked("NUL in extension", "5;a=\u0000\r\nhello\r\n0\r\n\r\n", true, 0, "hello");
chunked("[ and unbalanced quote in extension", "5;a=\"[b\r\nhello\r\n0\r\n\r\n", true, 0, "hello");
chunked("extension on the last chunk", "5\r\nhello\r\n0;last=1\r\n\r\n", true, 0, "hello");
chunked("bytes >= 0x80 in extension", "5;\u00ff\u0080\r\nhello\r\n0\r\n\r\n", true, 0, "hello");
chunked("bare LF after size", "6\nhello \r\n5\r\nworld\r\n0\r\n", true, -1, null);
chunked("bare LF after data", "6\r\nhello \n5\r\nworld\r\n0\r\n", true, -1, null);
chunked("bare LF after second data", "6\r\nhello \r\n5\r\nworld\n0\r\n", true, -1, null);
chunked("bare LF after last-chunk size", "6\r\nhello \r\n5\r\nworld\r\n0\n", true, -1, null);
chunked("CR then junk in chunk header", "6\rX\nhello \n5\r\nworld\r\n0\r\n", true, -1, null);
chunked("bare LF in extension", "5;ext\nhello\r\n0\r\n\r\n", true, -1, null);
chunked("CR CR LF after size", "5\r\r\nhello\r\n0\r\n\r\n", true, -1, null);
chunked("data longer than the size", "5\r\nhelloX\r\n0\r\n\r\n", true, -1, null);
chunked("CR CR LF after data", "5\r\nhello\r\r\n0\r\n\r\n", true, -1, null);
chunked("no CRLF after data", "5\r\nhello0\r\n\r\n", true, -1, null);
chunked("LF CR after data", "5\r\nhello\n\r0\r\n\r\n", true, -1, null);
chunked("incomplete: size only", "5", true, -2, "");
chunked("incomplete: inside data", "5\r\nhel", true, -2, "hel");
chunked("incomplete: after data", "5\r\nhello", true, -2, "hello");
chunked("incomplete: after data CR", "5\r\nhello\r", true, -2, "hello");
chunked("incomplete: empty input", "", true, -2, "");
chunked("incomplete: inside extension", "5;name=val", true, -2, "");
chunked("many small chunks", Array.from({ length: 50 }, (_, i) => `1\r\n${chr(65 + (i % 26))}\r\n`).join("") + "0\r\n\r\n", true, 0,
  Array.from({ length: 50 }, (_, i) => chr(65 + (i % 26))).join(""));
chunked("binary payload with CRLFs", "8\r\n\r\n\r\n\u0000\u00ff\r\n\r\n0\r\n\r\n", true, 0, "\r\n\r\n\u0000\u00ff\r\n");
chunked("a 4 KiB chunk", "1000\r\n" + "x".repeat(4096) + "\r\n0\r\n\r\n", true, 0, "x".repeat(4096));
{
  // every prefix of a body is -2 with the payload decoded so far
  const body = "4;x=y\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n";
  const payload = [[7, 11, "Wiki"], [16, 21, "pedia"], [26, 40, " in\r\n\r\nchunks."]];
  chunked("wikipedia example", body, true, 0, "Wiki" + "pedia" + " in\r\n\r\nchunks.");
  for (let i = 0; i < body.length; ++i) {
    let decoded = "";
    for (const [from, to, text] of payload) if (i > from) decoded += text.slice(0, Math.min(i, to) - from);
    chunked(`prefix ${i} of the wikipedia example`, body.slice(0, i), true, -2, decoded);
  }
}
// byte after the size digit: hex continues the size, BWS/';'/CR end it, anything else is -1
for (let b = 0; b < 256; ++b) {
  const input = `5${chr(b)}\r\nhello\r\n0\r\n\r\n`;
  const what = `chunk-size terminator byte 0x${hex(b)}`;
  if (/^[0-9a-fA-F]$/.test(chr(b))) chunked(what, input, true, -2, "hello\r\n0\r\n\r\n"); // size 0x5? > the 14 bytes left
  else if (b === 0x20 || b === 0x09 || b === 0x3b) chunked(what, input, true, 0, "hello");
  else chunked(what, input, true, -1, null); // CR must be followed by LF; bare LF and others rejected
}

for (const c of cases) {
  for (const [k, v] of Object.entries(c)) {
    if (typeof v === "string" && /[^\u0000-\u00ff]/.test(v)) throw new Error(`${c.name}: ${k} is not latin1`);
  }
}
const names = new Set();
for (const c of cases) {
  const key = `${c.fn}: ${c.name}`;
  if (names.has(key)) throw new Error(`duplicate case name ${key}`);
  names.add(key);
}
const out = fileURLToPath(new URL("./cases.json", import.meta.url));
// bytes 0x7f-0xff as \u00XX escapes, so the file is plain ASCII whatever reads it
const ascii = (c) => JSON.stringify(c).replace(/[\u007f-\u00ff]/g, (ch) => "\\u00" + hex(ch.charCodeAt(0)));
writeFileSync(out, "[\n" + cases.map(ascii).join(",\n") + "\n]\n");
console.log(`make-cases: wrote ${cases.length} cases to ${out}`);
