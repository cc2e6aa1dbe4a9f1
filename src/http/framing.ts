/**
 * What picohttpparser leaves to the server about a request head (RFC 9112 §3-§7), read from the
 * successful parse it is handed (a ParsedHead): version, target form, Host rules, body framing
 * (Content-Length and Transfer-Encoding, RFC 9112 §6), Expect and Connection. Strict on purpose:
 * anything ambiguous is an error status, returned as a Refusal, and every error closes the
 * connection. Values arrive latin1-decoded with surrounding SP/HTAB already trimmed by the
 * parser; comparisons here are ASCII-only (no trim(), Number() or Unicode case folding, which
 * turn `\u00a0chunked` into `chunked`).
 */
import type { ParsedHead } from "./parser.js";
import { Refusal } from "./refusal.js";

export const BODY_NONE = 0;
export const BODY_LENGTH = 1;
export const BODY_CHUNKED = 2;

/** Connection header tokens (bit set). */
export const CONN_CLOSE = 1;
export const CONN_KEEP_ALIVE = 2;

/** Content-Length values past 15 digits are refused before any arithmetic can lose precision. */
const MAX_CONTENT_LENGTH_DIGITS = 15;

export interface RequestHead {
  method: string;
  /** The request-target as sent (origin-form, absolute-form or `*`). */
  target: string;
  /** 0 for HTTP/1.0; 1 for HTTP/1.1 and for HTTP/1.2-1.9, which are served as 1.1 (RFC 9110 §6.2). */
  minor: number;
  /** Header names and values as sent, flattened: [name0, value0, name1, value1, ...]. */
  headers: string[];
  /** The Host value, or null when absent (HTTP/1.0 only). */
  host: string | null;
  /** True for absolute-form targets: the URL comes from the target, not Host (RFC 9112 §3.2.2). */
  absolute: boolean;
  bodyKind: number;
  contentLength: number;
  connection: number;
  /** An HTTP/1.1 request with `Expect: 100-continue` (ignored for 1.0, RFC 9110 §10.1.1). */
  expectContinue: boolean;
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

// Header values are latin1 strings, so toLowerCase() can only map A-Z to ASCII: the other
// letters it folds (U+00C0-U+00DE) land outside ASCII, and no Unicode sign like U+212A can occur.
function lowerList(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(",")) {
    const t = trimOws(part);
    if (t.length > 0) out.push(t.toLowerCase());
  }
  return out;
}

/** Connection header value -> CONN_* bits. */
export function connectionTokens(value: string): number {
  // What clients send, compared as is before any case folding (a string per request saved).
  if (value === "close" || value === "Close") return CONN_CLOSE;
  if (value === "keep-alive" || value === "Keep-Alive") return CONN_KEEP_ALIVE;
  if (value.length === 5 || value.length === 10) {
    const v = value.toLowerCase();
    if (v === "close") return CONN_CLOSE;
    if (v === "keep-alive") return CONN_KEEP_ALIVE;
  }
  let bits = 0;
  for (const t of lowerList(value)) {
    if (t === "close") bits |= CONN_CLOSE;
    else if (t === "keep-alive") bits |= CONN_KEEP_ALIVE;
  }
  return bits;
}

// RFC 9110 §7.2 + RFC 3986 §3.2.2: IP-literal, or reg-name/IPv4 (unreserved, pct-encoded,
// sub-delims), then an optional port. Empty is valid: a target without authority sends `Host:`.
const HOST_RE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;

// HOST_RE is RFC 3986 syntax; request.url must also pass the WHATWG URL parser, which refuses
// some of what that syntax allows (a port past 65535, IPv4 numbers out of range, bad percent-
// encoding or forbidden code points, invalid IPv6 or punycode). An app's `new URL(request.url)`
// would then throw on a request we accepted: such a Host is a 400 here (RFC 9112 §3.2), not a
// 500 there. Parsing costs about a microsecond, and a worker sees few distinct hosts: cache them.
const HOST_CACHE_MAX = 256;
const hostCache = new Map<string, boolean>();

function urlParses(url: string): boolean {
  if (typeof URL.canParse === "function") return URL.canParse(url);
  try {
    new URL(url);
    return true;
  } catch {
    return false;
  }
}

// Most requests to a worker name the same Host as the one before: its verdict is kept apart
// from the cache, which would hash the fresh string on every request.
let lastHost = "";
let lastHostValid = true;

/** The Host value is RFC 3986 syntax and what the WHATWG URL parser accepts too. */
function hostValid(host: string): boolean {
  if (host === lastHost) return lastHostValid;
  let ok = hostCache.get(host);
  if (ok === undefined) {
    ok = HOST_RE.test(host) && urlParses(`http://${host}/`);
    if (hostCache.size >= HOST_CACHE_MAX) hostCache.clear();
    hostCache.set(host, ok);
  }
  lastHost = host;
  lastHostValid = ok;
  return ok;
}

const HIGH_OCTET_RE = /[\x80-\xff]/g;

/**
 * The target with every octet >= 0x80 (a latin1 char here) percent-encoded as that octet: the UTF-8
 * bytes of `/é` give `/%C3%A9`, what a WHATWG URL parser makes of `/é` typed as UTF-8 and what
 * nginx passes upstream. Left as latin1 chars, the URL parser would encode each char's own UTF-8
 * form (`/%C3%83%C2%A9`). RFC 9112 §3.2 allows no such octet in a request-target; we pass them on
 * as sent rather than refuse them.
 */
export function escapeHighOctets(target: string): string {
  return target.replace(HIGH_OCTET_RE, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Check a successfully parsed head. Returns the RequestHead, or a Refusal (400, 413, 417, 501)
 * saying why. `maxBodySize` 0 means no limit.
 */
export function readHead(parsed: ParsedHead, maxBodySize: number): RequestHead | Refusal {
  const minor = parsed.minorVersion() === 0 ? 0 : 1;
  const method = parsed.method();
  const target = parsed.target();
  let absolute = false;
  if (target.charCodeAt(0) !== 0x2f) {
    if (target === "*") {
      if (method !== "OPTIONS") return new Refusal(400, `${method} with the asterisk-form target *`);
    } else if (method === "CONNECT") {
      return new Refusal(501, "CONNECT is not supported");
    } else {
      const lower = target.slice(0, 8).toLowerCase();
      if (!lower.startsWith("http://") && !lower.startsWith("https://")) {
        return new Refusal(400, `request-target is neither origin-form nor an http(s) absolute-form: ${target.slice(0, 64)}`);
      }
      absolute = true;
    }
  }

  const n = parsed.headerCount();
  const headers = new Array<string>(n * 2);
  let host: string | null = null;
  let hosts = 0;
  let contentLength = -1;
  let te: string | null = null;
  let connection = 0;
  let expect: string | null = null;
  for (let i = 0; i < n; i++) {
    const name = parsed.headerName(i);
    if (name === null) return new Refusal(400, "obs-fold (a header line starting with whitespace) is not accepted");
    const value = parsed.headerValue(i);
    headers[2 * i] = name;
    headers[2 * i + 1] = value;
    switch (name.length) {
      case 4:
        if (parsed.headerNameIs(i, "host")) {
          hosts++;
          host = value;
        }
        break;
      case 6:
        if (parsed.headerNameIs(i, "expect")) expect = expect === null ? value : `${expect}, ${value}`;
        break;
      case 10:
        if (parsed.headerNameIs(i, "connection")) connection |= connectionTokens(value);
        break;
      case 14:
        if (parsed.headerNameIs(i, "content-length")) {
          if (contentLength !== -1) return new Refusal(400, "more than one Content-Length");
          if (!isDigits(value)) return new Refusal(400, `Content-Length is not a decimal number: ${JSON.stringify(value.slice(0, 32))}`);
          if (value.length > MAX_CONTENT_LENGTH_DIGITS) return new Refusal(413, `Content-Length ${value.slice(0, 32)} is too large`);
          contentLength = +value; // digits only, checked above
        }
        break;
      case 17:
        if (parsed.headerNameIs(i, "transfer-encoding")) te = te === null ? value : `${te}, ${value}`;
        break;
    }
  }

  if (hosts > 1) return new Refusal(400, "more than one Host");
  if (hosts === 0 && minor === 1) return new Refusal(400, "HTTP/1.1 request without Host");
  if (host !== null && host !== "" && !hostValid(host)) {
    return new Refusal(400, `invalid Host ${JSON.stringify(host.slice(0, 64))}`);
  }
  if (absolute && !urlParses(escapeHighOctets(target))) return new Refusal(400, `absolute-form target is not a valid URL: ${target.slice(0, 64)}`);

  let bodyKind = BODY_NONE;
  if (te !== null) {
    if (contentLength !== -1) return new Refusal(400, "both Transfer-Encoding and Content-Length");
    if (minor === 0) return new Refusal(400, "Transfer-Encoding in an HTTP/1.0 request");
    const codings = lowerList(te);
    let chunked = 0;
    for (const c of codings) if (c === "chunked") chunked++;
    if (chunked !== 1 || codings[codings.length - 1] !== "chunked") {
      return new Refusal(400, `Transfer-Encoding ${JSON.stringify(te.slice(0, 64))} does not end in a single chunked`);
    }
    if (codings.length > 1) return new Refusal(501, `transfer coding ${codings[0]} is not supported`);
    bodyKind = BODY_CHUNKED;
  } else if (contentLength > 0) {
    bodyKind = BODY_LENGTH;
  }
  if (maxBodySize > 0 && contentLength > maxBodySize) {
    return new Refusal(413, `request body of ${contentLength} bytes over ${maxBodySize}`);
  }

  let expectContinue = false;
  if (expect !== null) {
    const list = lowerList(expect);
    if (list.length !== 1 || list[0] !== "100-continue") {
      return new Refusal(417, `unsupported expectation ${JSON.stringify(expect.slice(0, 64))}`);
    }
    expectContinue = minor === 1;
  }

  return {
    method, target, minor, headers, host, absolute, bodyKind,
    contentLength: contentLength < 0 ? 0 : contentLength, connection, expectContinue,
  };
}

// RFC 9112 §2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT, one digit each side.
const REQUEST_LINE_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ +[^ ]+ +HTTP\/([0-9])\.[0-9]\r?$/;

/**
 * For a head the parser rejected: a Refusal with 505 when the request line is well-formed,
 * version included, but names a major version other than 1 (the parser accepts only HTTP/1.x),
 * else 400.
 */
export function rejectStatus(bytes: Uint8Array): Refusal {
  const lf = bytes.indexOf(0x0a);
  const line = String.fromCharCode.apply(null, Array.from(bytes.subarray(0, lf < 0 ? Math.min(bytes.length, 1024) : Math.min(lf, 1024))));
  const m = REQUEST_LINE_RE.exec(line);
  if (m !== null && m[1] !== "1") return new Refusal(505, `HTTP version ${m[1]} is not supported`);
  return new Refusal(400, "malformed request head");
}

// RFC 9110 §5.6.2 tchar, by byte
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

/**
 * For a head that does not fit in `limit` bytes (`bytes` starts where the head does and holds at
 * least `limit` bytes, or the whole head), a Refusal: 431 when a line ends within the limit, so
 * the header section is what is long; else the request line is: 414 when the method ended within
 * the limit (the target is what is long, RFC 9112 §3), 501 for a method that is all tchar but
 * does not end within it (RFC 9112 §3: an unrecognised method), 400 for one that is not a token.
 */
export function headTooLarge(bytes: Uint8Array, limit: number): Refusal {
  let start = 0; // one empty line before the request line is ignored (RFC 9112 §2.2), as the parser does
  if (bytes[0] === 0x0d && bytes[1] === 0x0a) start = 2;
  else if (bytes[0] === 0x0a) start = 1;
  const line = bytes.subarray(start, limit);
  if (line.indexOf(0x0a) >= 0) return new Refusal(431, `request head over ${limit} bytes`);
  const sp = line.indexOf(0x20);
  const method = sp < 0 ? line : line.subarray(0, sp);
  for (let i = 0; i < method.length; i++) {
    if (TCHAR[method[i]!] === 0) return new Refusal(400, "malformed request line");
  }
  if (sp < 0) return new Refusal(501, `a method over ${limit} bytes`);
  if (sp === 0) return new Refusal(400, "malformed request line");
  return new Refusal(414, `request line over ${limit} bytes`);
}
