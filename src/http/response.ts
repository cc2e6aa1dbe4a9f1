/**
 * Turn the app's Response into bytes: read its status, headers and body source (directly for
 * FastResponse and, through the runtime (HttpOptions.platformBody), for platform Responses, so string and byte
 * bodies are never read through a stream), and build the head. Header values are checked: CR,
 * LF, NUL and other controls, or characters past U+00FF, make the response refused (the caller
 * sends a 500), never sent. The server owns Connection, Content-Length, Transfer-Encoding and
 * (unless the app set it) Date. StreamPump sends stream bodies chunked, raw with a known length,
 * or close-delimited, waiting for the socket to drain between chunks.
 */
import { httpDate } from "./date.js";
import { statusLine } from "./status.js";
import { CONN_CLOSE, connectionTokens } from "./framing.js";
import { fastParts, NativeResponse } from "./fast-response.js";

export type BodySource = null | string | Uint8Array | ReadableStream<Uint8Array> | Blob;

/** The app's response, read once; a single reused object (the caller copies what it keeps). */
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

const parts: ResponseParts = {
  status: 200, statusText: "", lines: "", ascii: true, hasDate: false, close: false, length: -1, body: null,
};

const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const NON_ASCII_RE = /[^\t\x20-\x7e]/;
const NON_LATIN1_RE = /[^\t\x20-\x7e\x80-\xff]/;
const REASON_RE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Why the last readResponse() returned null. */
export let responseError = "";

function refuse(why: string): null {
  responseError = why;
  return null;
}

// Returns false (with responseError set) for a header that must not be sent.
function addHeader(name: string, value: string, checkName: boolean): boolean {
  if (checkName && !TOKEN_RE.test(name)) {
    responseError = `invalid header name ${JSON.stringify(name.slice(0, 64))}`;
    return false;
  }
  if (NON_ASCII_RE.test(value)) {
    if (NON_LATIN1_RE.test(value)) {
      responseError = `header ${name} has a control character or a character past U+00FF in its value`;
      return false;
    }
    parts.ascii = false;
  }
  switch (name.length) {
    case 4:
      if (name.toLowerCase() === "date") parts.hasDate = true;
      break;
    case 10: {
      const lower = name.toLowerCase();
      if (lower === "connection") {
        if (connectionTokens(value) & CONN_CLOSE) parts.close = true;
        return true;
      }
      if (lower === "keep-alive") return true;
      break;
    }
    case 14:
      if (name.toLowerCase() === "content-length") {
        if (/^[0-9]{1,15}$/.test(value)) parts.length = +value;
        return true;
      }
      break;
    case 17:
      if (name.toLowerCase() === "transfer-encoding") return true;
      break;
  }
  parts.lines += `${name}: ${value}\r\n`;
  return true;
}

function addHeaders(init: Headers | HeadersInit | undefined, defaultType: string | null): boolean {
  let hasType = defaultType === null;
  if (init === undefined) {
    // nothing
  } else if (init instanceof Headers) {
    for (const [name, value] of init) {
      if (!addHeader(name, value, false)) return false;
    }
    hasType ||= init.has("content-type");
  } else if (Array.isArray(init)) {
    for (const pair of init) {
      if (pair.length !== 2) return !!refuse("a header pair does not have exactly two elements");
      const name = String(pair[0]);
      if (!addHeader(name, String(pair[1]), true)) return false;
      hasType ||= name.length === 12 && name.toLowerCase() === "content-type";
    }
  } else {
    for (const name in init) {
      if (!addHeader(name, String((init as Record<string, string>)[name]), true)) return false;
      hasType ||= name.length === 12 && name.toLowerCase() === "content-type";
    }
  }
  if (!hasType) parts.lines += `content-type: ${defaultType}\r\n`;
  return true;
}

/** How the runtime reads a platform Response's body source (the string or bytes it was made
 *  from) without reading its stream; see HttpOptions.platformBody. */
let platformBody: ((res: Response) => string | Uint8Array | null | undefined) | undefined;

export function usePlatformBody(fn: typeof platformBody): void {
  platformBody = fn;
}

function nativeBody(res: Response): BodySource {
  const source = platformBody?.(res);
  return source !== undefined ? source : res.body;
}

function bodyOf(init: BodyInit | null): BodySource | undefined {
  if (init === null || typeof init === "string" || init instanceof Uint8Array || init instanceof ReadableStream) return init;
  if (init instanceof ArrayBuffer) return new Uint8Array(init);
  if (ArrayBuffer.isView(init)) return new Uint8Array(init.buffer, init.byteOffset, init.byteLength);
  if (init instanceof URLSearchParams) return init.toString();
  if (init instanceof Blob) return init;
  return undefined; // FormData and the rest: the platform encodes them
}

/**
 * Read the app's Response into the shared ResponseParts, or return null (responseError says
 * why) when it cannot be sent as it is. The caller has checked `instanceof Response`.
 */
export function readResponse(res: Response): ResponseParts | null {
  parts.lines = "";
  parts.ascii = true;
  parts.hasDate = false;
  parts.close = false;
  parts.length = -1;
  const fast = fastParts(res);
  let body: BodySource | undefined;
  if (fast !== null) {
    body = bodyOf(fast.body);
    if (body !== undefined) {
      parts.status = fast.status;
      parts.statusText = fast.statusText;
      if (!addHeaders(fast.headers, fast.defaultType)) return null;
    }
  }
  if (body === undefined) {
    // A platform Response, or a FastResponse whose body only the platform can encode.
    parts.status = res.status;
    parts.statusText = res.statusText;
    if (!addHeaders(res.headers, null)) return null;
    body = res instanceof NativeResponse && fast === null ? nativeBody(res) : res.body;
  }
  // Only Response.error() (status 0, a network error in fetch terms) gets past the constructors'
  // 200..599 check; it has no HTTP form, and "HTTP/1.1 0" would be a response no client can frame.
  if (parts.status < 200 || parts.status > 599) return refuse(`status ${parts.status} is not a final HTTP status (Response.error()?)`);
  if (parts.statusText !== "") {
    if (!REASON_RE.test(parts.statusText)) return refuse("statusText has a control character or a character past U+00FF");
    if (NON_ASCII_RE.test(parts.statusText)) parts.ascii = false; // latin1 bytes, as header values
  }
  parts.body = body;
  return parts;
}

/** The head for `p`: status line, the app's headers, Date, then framing and connection lines. */
export function buildHead(p: ResponseParts, framing: string, connection: string): string {
  const line = p.statusText === "" ? statusLine(p.status) : `HTTP/1.1 ${p.status} ${p.statusText}\r\n`;
  return p.hasDate
    ? `${line}${p.lines}${framing}${connection}\r\n`
    : `${line}${p.lines}date: ${httpDate()}\r\n${framing}${connection}\r\n`;
}

/** UTF-8 length of a string, without encoding it (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // the pair is 2 UTF-16 units and 4 bytes
      i++;
    } else n += 2;
  }
  return n;
}

/** A head holding latin1 characters past 0x7f, as bytes (a UTF-8 string write would mangle them). */
export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

const encoder = new TextEncoder();

export function utf8Bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Where StreamPump writes, and whom it tells how it ended. */
export interface PumpSink {
  /** Returns false when the pump must wait for drained() before writing more. */
  pumpWrite(chunks: readonly (Uint8Array | string)[]): boolean;
  pumpDone(bodyBytes: number): void;
  pumpFailed(error: unknown, bodyBytes: number): void;
}

export const PUMP_CHUNKED = 0;
export const PUMP_LENGTH = 1;
export const PUMP_RAW = 2; // close-delimited (HTTP/1.0)

/** Sends one ReadableStream body; one per streamed response. */
export class StreamPump {
  #sink: PumpSink;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #mode: number;
  #length: number;
  #sent = 0;
  #cancelled = false;
  #waitDrain: (() => void) | null = null;

  constructor(sink: PumpSink, stream: ReadableStream<Uint8Array>, mode: number, length: number) {
    this.#sink = sink;
    this.#reader = stream.getReader();
    this.#mode = mode;
    this.#length = length;
  }

  start(): void {
    this.#run().catch((error: unknown) => {
      if (!this.#cancelled) this.#sink.pumpFailed(error, this.#sent);
    });
  }

  /** The socket drained: continue. */
  drained(): void {
    const w = this.#waitDrain;
    this.#waitDrain = null;
    w?.();
  }

  /** The client is gone: stop reading and let the app's stream know. */
  cancel(reason: unknown): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#reader.cancel(reason).catch(() => {});
    this.drained();
  }

  async #run(): Promise<void> {
    const sink = this.#sink;
    for (;;) {
      const { done, value } = await this.#reader.read();
      if (this.#cancelled) return;
      if (done) break;
      let chunk: Uint8Array;
      if (value instanceof Uint8Array) chunk = value;
      else if (typeof value === "string") chunk = utf8Bytes(value);
      else if (ArrayBuffer.isView(value)) chunk = new Uint8Array((value as ArrayBufferView).buffer, (value as ArrayBufferView).byteOffset, (value as ArrayBufferView).byteLength);
      else throw new TypeError("a response body stream produced a chunk that is not a Uint8Array");
      // A zero-length chunk would end a chunked body early (Gazelle skips them too).
      if (chunk.length === 0) continue;
      this.#sent += chunk.length;
      if (this.#mode === PUMP_LENGTH && this.#sent > this.#length) {
        throw new RangeError(`the response body is longer than its Content-Length ${this.#length}`);
      }
      const ok = this.#mode === PUMP_CHUNKED
        ? sink.pumpWrite([`${chunk.length.toString(16)}\r\n`, chunk, "\r\n"])
        : sink.pumpWrite([chunk]);
      if (!ok) {
        await new Promise<void>((resolve) => {
          this.#waitDrain = resolve;
        });
        if (this.#cancelled) return;
      }
    }
    if (this.#mode === PUMP_LENGTH && this.#sent !== this.#length) {
      throw new RangeError(`the response body is ${this.#sent} bytes, its Content-Length ${this.#length}`);
    }
    if (this.#mode === PUMP_CHUNKED) sink.pumpWrite(["0\r\n\r\n"]);
    sink.pumpDone(this.#sent);
  }
}
