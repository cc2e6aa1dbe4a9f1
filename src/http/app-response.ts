/**
 * Reading the app's Response: its status, headers and body source, directly for a FastResponse
 * and, through the runtime's platformBody (HttpOptions), for a platform Response, so string and
 * byte bodies are never read through a stream. Header values are checked: CR, LF, NUL and other
 * controls, or characters past U+00FF, make the response refused (a Refusal; the caller sends a
 * 500), never sent. The server owns Connection, Content-Length, Transfer-Encoding and (unless
 * the app set it) Date: those are taken out here. Runs app code (getters, iterators), which may
 * throw; formats no bytes and decides nothing about the connection.
 */
import { CONN_CLOSE, connectionTokens } from "./framing.js";
import { fastParts, NativeResponse } from "./fast-response.js";
import { Refusal } from "./refusal.js";

export type BodySource = null | string | Uint8Array | ReadableStream<Uint8Array> | Blob;

/** The runtime's way to see a platform Response's body source without its stream. */
export type PlatformBody = (res: Response) => string | Uint8Array | null | undefined;

/** The app's response, read once. */
export interface ResponseParts {
  status: number;
  statusText: string;
  /** The app's headers as `Name: value\r\n` lines, minus those the server owns. */
  lines: string;
  /** Every line is ASCII (else the head must be encoded as latin1 bytes, not UTF-8). */
  ascii: boolean;
  hasDate: boolean;
  /** The app set `Connection: close`. */
  close: boolean;
  /** Content-Length the app set (used for stream bodies), or -1. */
  length: number;
  body: BodySource;
}

const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const NON_ASCII_RE = /[^\t\x20-\x7e]/;
const NON_LATIN1_RE = /[^\t\x20-\x7e\x80-\xff]/;
const REASON_RE = /^[\t\x20-\x7e\x80-\xff]*$/;

// Returns why a header must not be sent, or null once it is added to `p`.
function addHeader(p: ResponseParts, name: string, value: string, checkName: boolean): string | null {
  if (checkName && !TOKEN_RE.test(name)) return `invalid header name ${JSON.stringify(name.slice(0, 64))}`;
  if (NON_ASCII_RE.test(value)) {
    if (NON_LATIN1_RE.test(value)) return `header ${name} has a control character or a character past U+00FF in its value`;
    p.ascii = false;
  }
  switch (name.length) {
    case 4:
      if (name.toLowerCase() === "date") p.hasDate = true;
      break;
    case 10: {
      const lower = name.toLowerCase();
      if (lower === "connection") {
        if (connectionTokens(value) & CONN_CLOSE) p.close = true;
        return null;
      }
      if (lower === "keep-alive") return null;
      break;
    }
    case 14:
      if (name.toLowerCase() === "content-length") {
        if (/^[0-9]{1,15}$/.test(value)) p.length = +value;
        return null;
      }
      break;
    case 17:
      if (name.toLowerCase() === "transfer-encoding") return null;
      break;
  }
  p.lines += `${name}: ${value}\r\n`;
  return null;
}

// Returns why the headers cannot be sent, or null once they are all added to `p`.
function addHeaders(p: ResponseParts, init: Headers | HeadersInit | undefined, defaultType: string | null): string | null {
  let hasType = defaultType === null;
  let why: string | null = null;
  if (init === undefined) {
    // nothing
  } else if (init instanceof Headers) {
    for (const [name, value] of init) {
      if ((why = addHeader(p, name, value, false)) !== null) return why;
    }
    hasType ||= init.has("content-type");
  } else if (Array.isArray(init)) {
    for (const pair of init) {
      if (pair.length !== 2) return "a header pair does not have exactly two elements";
      const name = String(pair[0]);
      if ((why = addHeader(p, name, String(pair[1]), true)) !== null) return why;
      hasType ||= name.length === 12 && name.toLowerCase() === "content-type";
    }
  } else {
    for (const name in init) {
      if ((why = addHeader(p, name, String((init as Record<string, string>)[name]), true)) !== null) return why;
      hasType ||= name.length === 12 && name.toLowerCase() === "content-type";
    }
  }
  if (!hasType) p.lines += `content-type: ${defaultType}\r\n`;
  return null;
}

function bodyOf(init: BodyInit | null): BodySource | undefined {
  if (init === null || typeof init === "string" || init instanceof Uint8Array || init instanceof ReadableStream) return init;
  if (init instanceof ArrayBuffer) return new Uint8Array(init);
  if (ArrayBuffer.isView(init)) return new Uint8Array(init.buffer, init.byteOffset, init.byteLength);
  if (init instanceof URLSearchParams) return init.toString();
  if (init instanceof Blob) return init;
  return undefined; // FormData and the rest: the platform encodes them
}

/** A ResponseParts to read into; the caller may reuse one for every response it reads. */
export function newResponseParts(): ResponseParts {
  return { status: 200, statusText: "", lines: "", ascii: true, hasDate: false, close: false, length: -1, body: null };
}

/**
 * Read the app's Response into `p` (every field is set) and return it, or return a Refusal (500)
 * saying why it cannot be sent as it is. The caller has checked `instanceof Response`.
 */
export function readResponse(res: Response, platformBody: PlatformBody | undefined, p: ResponseParts): ResponseParts | Refusal {
  p.lines = "";
  p.ascii = true;
  p.hasDate = false;
  p.close = false;
  p.length = -1;
  const fast = fastParts(res);
  let body: BodySource | undefined;
  let why: string | null;
  if (fast !== null) {
    body = bodyOf(fast.body);
    if (body !== undefined) {
      p.status = fast.status;
      p.statusText = fast.statusText;
      if ((why = addHeaders(p, fast.headers, fast.defaultType)) !== null) return new Refusal(500, why);
    }
  }
  if (body === undefined) {
    // A platform Response, or a FastResponse whose body only the platform can encode.
    p.status = res.status;
    p.statusText = res.statusText;
    if ((why = addHeaders(p, res.headers, null)) !== null) return new Refusal(500, why);
    if (res instanceof NativeResponse && fast === null) {
      const source = platformBody?.(res);
      body = source !== undefined ? source : res.body;
    } else {
      body = res.body;
    }
  }
  // Only Response.error() (status 0, a network error in fetch terms) gets past the constructors'
  // 200..599 check; it has no HTTP form, and "HTTP/1.1 0" would be a response no client can frame.
  if (p.status < 200 || p.status > 599) return new Refusal(500, `status ${p.status} is not a final HTTP status (Response.error()?)`);
  if (p.statusText !== "") {
    if (!REASON_RE.test(p.statusText)) return new Refusal(500, "statusText has a control character or a character past U+00FF");
    if (NON_ASCII_RE.test(p.statusText)) p.ascii = false; // latin1 bytes, as header values
  }
  p.body = body;
  return p;
}
