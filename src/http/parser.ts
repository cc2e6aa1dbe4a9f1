/**
 * The binding to pronghorn's wasm HTTP parser (wasm/src: picohttpparser's API plus batch.h).
 *
 * One instance per process, compiled on first use and shared by every connection, as undici's
 * `lazyllhttp()` does. It is built synchronously from the base64 in parser-wasm.ts, so loading
 * needs no file-system call on any runtime: the SIMD128 build first, the scalar build when the
 * engine rejects SIMD or the first caller of requestParser() asked for it (the server passes
 * "scalar" for PRONGHORN_NO_WASM_SIMD=1, as undici's UNDICI_NO_WASM_SIMD). The memory is fixed
 * at 16 MiB and never grows, so wasmBytes() and every view made here stay valid for the
 * life of the process. A parse is read through the RequestParser that made it (a ParsedHead):
 * its accessors describe that parser's last successful parse only, and read its bytes lazily,
 * so the caller must not overwrite [ptr, ptr + len) before it is done reading.
 * Knows nothing of sockets or processes; runs unchanged on Node, Bun and Deno.
 */
import { base64Bytes, latin1Decoder } from "../runtime/bytes.js";
import { PARSER_SCALAR_WASM_BASE64, PARSER_WASM_BASE64 } from "./parser-wasm.js";

export const PARSE_ERROR = -1;
export const PARSE_PARTIAL = -2;
export const PARSE_TOO_MANY_HEADERS = -3;

// Mirrors wasm/src/batch.h, the one place its layout is written down on this side.
/** PG_MAX_HEADERS: header lines (obs-fold continuations included) one request may carry. */
export const MAX_HEADERS = 256;
const NO_NAME = 0xffffffff; // PG_NO_NAME
const RESULT_WORDS = 6 + 4 * MAX_HEADERS; // PG_RESULT_WORDS
const W_METHOD_OFF = 0;
const W_METHOD_LEN = 1;
const W_TARGET_OFF = 2;
const W_TARGET_LEN = 3;
const W_MINOR_VERSION = 4;
const W_HEADER_COUNT = 5;
const W_HEADERS = 6; // then per header: name off, name len, value off, value len
const WORDS_PER_HEADER = 4;
const W_DECODED_BYTES = 0; // pg_decode_chunked: payload bytes of this call
const W_IN_DATA = 1; // pg_decode_chunked: 1 when it stopped inside chunk data

// pg_decode_chunked's errors (PG_CHUNKED_*); -2 is PARSE_PARTIAL.
/** The body breaks the RFC 9112 §7.1 grammar. */
export const CHUNKED_MALFORMED = -1;
/** More than CHUNK_EXT_MAX_BYTES of chunk extensions in one body. */
export const CHUNKED_EXT_TOO_LONG = -4;
/** More than TRAILER_MAX_BYTES of trailer section. */
export const CHUNKED_TRAILER_TOO_LONG = -5;
/** At least 100 KiB of framing that is over 75% of the bytes read (picohttpparser's rule). */
export const CHUNKED_MOSTLY_FRAMING = -6;
/** The chunk sizes declared so far add up to more than the decoder's maxBytes. */
export const CHUNKED_TOO_LARGE = -7;
/** PG_MAX_CHUNK_EXT_BYTES: chunk-extension bytes one body may carry (Node: 16 KiB, CVE-2024-22019). */
export const CHUNK_EXT_MAX_BYTES = 16 * 1024;
/** PG_MAX_TRAILER_BYTES: trailer-section bytes one body may carry. */
export const TRAILER_MAX_BYTES = 16 * 1024;

/** Scratch for parseRequestBytes; grown to the largest head seen, in these steps. */
const SCRATCH_STEP_BYTES = 64 * 1024;
/** ChunkedDecoder copies input into wasm memory in pieces of at most this size. */
const CHUNK_PIECE_BYTES = 64 * 1024;

/** The module's exports, as wasm/src/phr.h and wasm/src/batch.h declare them (wasm32: size_t and pointers are numbers). */
export interface ParserExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(ptr: number): void;
  phr_parse_request(buf: number, len: number, method: number, methodLen: number, path: number, pathLen: number,
    minorVersion: number, headers: number, numHeaders: number, lastLen: number): number;
  phr_parse_response(buf: number, len: number, minorVersion: number, status: number, msg: number, msgLen: number,
    headers: number, numHeaders: number, lastLen: number): number;
  phr_parse_headers(buf: number, len: number, headers: number, numHeaders: number, lastLen: number): number;
  phr_decode_chunked(decoder: number, buf: number, bufsz: number): number;
  phr_decode_chunked_is_in_data(decoder: number): number;
  pg_result(): number;
  pg_parse_request(buf: number, len: number, lastLen: number): number;
  pg_chunked_new(consumeTrailer: number, maxBody: number): number;
  pg_chunked_free(decoder: number): void;
  pg_decode_chunked(decoder: number, buf: number, len: number): number;
  pg_simd(): number;
}

const REQUIRED_EXPORTS = [
  "memory", "malloc", "free", "phr_parse_request", "phr_parse_response", "phr_parse_headers",
  "phr_decode_chunked", "phr_decode_chunked_is_in_data", "pg_result", "pg_parse_request",
  "pg_chunked_new", "pg_chunked_free", "pg_decode_chunked", "pg_simd",
] as const;

/**
 * Compile and instantiate one build of the parser, apart from the process-wide instance.
 * For tests and benchmarks; the server uses the shared instance through the functions below.
 */
export function newRawInstance(build: "simd" | "scalar"): ParserExports {
  return instantiate(new WebAssembly.Module(base64Bytes(build === "simd" ? PARSER_WASM_BASE64 : PARSER_SCALAR_WASM_BASE64)));
}

function instantiate(module: WebAssembly.Module): ParserExports {
  // The C code calls nothing outside itself; should a toolchain add an import anyway, it gets
  // a stub that names it rather than a LinkError that names nothing we can fix here.
  const imports: Record<string, Record<string, () => never>> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== "function") continue;
    (imports[imp.module] ??= {})[imp.name] = () => {
      throw new Error(`pronghorn: the wasm parser called its import ${imp.module}.${imp.name}, which pronghorn does not provide; rebuild with npm run build:wasm`);
    };
  }
  const raw = new WebAssembly.Instance(module, imports).exports as Record<string, unknown>;
  for (const name of REQUIRED_EXPORTS) {
    if (raw[name] === undefined) {
      throw new Error(`pronghorn: the wasm parser lacks the export ${name}; rebuild it with npm run build:wasm`);
    }
  }
  // A reactor module runs its static constructors here (emscripten's --no-entry builds export it).
  if (typeof raw._initialize === "function") (raw._initialize as () => void)();
  return raw as unknown as ParserExports;
}

// ---- the process-wide instance --------------------------------------------------------------

let wasm: ParserExports | null = null;
let simd = false;
let memoryBytes = new Uint8Array(0);
let latin1: (start: number, end: number) => string = () => ""; // over the same memory
let words = new Uint32Array(0); // the result area
let pgParseRequest: (buf: number, len: number, lastLen: number) => number = () => PARSE_ERROR;
let pgDecodeChunked: (decoder: number, buf: number, len: number) => number = () => CHUNKED_MALFORMED;
let scratchPtr = 0;
let scratchSize = 0;
let piecePtr = 0;

/** Compile the process-wide instance: `build` "simd" tries the SIMD128 build first, "scalar"
 *  loads the scalar one only. Everything but requestParser() loads it as "simd". */
function load(build: "simd" | "scalar"): ParserExports {
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
    // The result area is read through a Uint32Array, which uses the host's byte order.
    throw new Error("pronghorn: the wasm parser binding needs a little-endian host");
  }
  let module: WebAssembly.Module | null = null;
  if (build === "simd") {
    try {
      module = new WebAssembly.Module(base64Bytes(PARSER_WASM_BASE64));
    } catch {
      // An engine without SIMD128 rejects the module at compile time; the scalar build follows.
    }
  }
  module ??= new WebAssembly.Module(base64Bytes(PARSER_SCALAR_WASM_BASE64));
  const e = instantiate(module);
  simd = e.pg_simd() === 1;
  memoryBytes = new Uint8Array(e.memory.buffer);
  latin1 = latin1Decoder(e.memory.buffer);
  words = new Uint32Array(e.memory.buffer, e.pg_result(), RESULT_WORDS);
  pgParseRequest = e.pg_parse_request;
  pgDecodeChunked = e.pg_decode_chunked;
  wasm = e;
  return e;
}

/** The shared instance, loaded with the default build if nothing loaded it yet. */
function shared(): ParserExports {
  return wasm ?? load("simd");
}

/** For tests and benchmarks: the raw exports of the shared instance. */
export function rawExports(): ParserExports {
  return shared();
}

/** Whether the shared instance is the SIMD128 build. */
export function isSimd(): boolean {
  shared();
  return simd;
}

/** The whole wasm linear memory as bytes. Fixed size: this view never detaches. */
export function wasmBytes(): Uint8Array {
  shared();
  return memoryBytes;
}

/** Reserve `size` bytes of wasm memory for the life of the process (malloc); returns the offset. */
export function reserve(size: number): number {
  const e = shared();
  const ptr = e.malloc(size);
  if (ptr === 0) {
    throw new RangeError(`pronghorn: cannot reserve ${size} bytes of wasm parser memory (fixed at ${memoryBytes.length} bytes)`);
  }
  return ptr;
}

/** What a successful parse says about a request head; read by framing.ts's readHead(). */
export interface ParsedHead {
  method(): string;
  target(): string;
  minorVersion(): number;
  headerCount(): number;
  /** Name of header i as sent (latin1), or null for an obs-fold continuation line. */
  headerName(i: number): string | null;
  headerValue(i: number): string;
  /** Whether header i's name equals `lower` (lower-case ASCII) ignoring ASCII case; compares bytes, allocates nothing. */
  headerNameIs(i: number, lower: string): boolean;
}

/**
 * Parses request heads with the shared instance, whose result area is one per process: so is
 * the RequestParser (requestParser()). Its ParsedHead accessors describe its last successful
 * parse until the next parse call; a parse that fails leaves none to read.
 */
class RequestParser implements ParsedHead {
  #headPtr = 0;
  #headLen = 0;
  // the head's latin1 decoding, once asked for
  #head: string | null = null;

  /**
   * Parse the request head at wasm memory [ptr, ptr+len). lastLen as picohttpparser's last_len.
   * Returns the head length (> 0), PARSE_ERROR, PARSE_PARTIAL or PARSE_TOO_MANY_HEADERS.
   */
  parse(ptr: number, len: number, lastLen: number): number {
    if (wasm === null) load("simd");
    const ret = pgParseRequest(ptr, len, lastLen);
    this.#head = null;
    this.#headPtr = ptr;
    this.#headLen = ret > 0 ? ret : 0;
    return ret;
  }

  /** Same, for bytes in a JS array: copies them into a scratch area of wasm memory first. */
  parseBytes(bytes: Uint8Array, lastLen: number): number {
    if (wasm === null) load("simd");
    if (bytes.length > scratchSize) growScratch(bytes.length);
    memoryBytes.set(bytes, scratchPtr);
    return this.parse(scratchPtr, bytes.length, lastLen);
  }

  // Measured on Node 20 (bench/parser.md has the machine), the ~700-byte browser request's 20
  // fields: one latin1 decode of the whole head plus a substring per field took 0.30 µs; a
  // latin1Slice per field 1.03 µs, toString("latin1") per field 1.20 µs, TextDecoder (UTF-8, so
  // ASCII only) per field 1.71 µs, a String.fromCharCode loop per field 3.07 µs. TextDecoder's
  // "latin1" is windows-1252 and would remap 0x80-0x9f, so it is not an option at all.
  #headString(): string {
    if (this.#head !== null) return this.#head;
    if (this.#headLen === 0) throw new Error("pronghorn: parser accessors read the last successful parse, and there is none");
    const text = latin1(this.#headPtr, this.#headPtr + this.#headLen);
    this.#head = text;
    return text;
  }

  #fieldAt(offWord: number): string {
    const off = words[offWord]!;
    return this.#headString().substring(off, off + words[offWord + 1]!);
  }

  method(): string {
    return this.#fieldAt(W_METHOD_OFF);
  }

  target(): string {
    return this.#fieldAt(W_TARGET_OFF);
  }

  minorVersion(): number {
    return words[W_MINOR_VERSION]!;
  }

  headerCount(): number {
    return words[W_HEADER_COUNT]!;
  }

  headerName(i: number): string | null {
    const w = W_HEADERS + WORDS_PER_HEADER * i;
    if (words[w] === NO_NAME) return null;
    return this.#fieldAt(w);
  }

  headerValue(i: number): string {
    return this.#fieldAt(W_HEADERS + WORDS_PER_HEADER * i + 2);
  }

  headerNameIs(i: number, lower: string): boolean {
    const w = W_HEADERS + WORDS_PER_HEADER * i;
    const off = words[w]!;
    const len = words[w + 1]!;
    if (off === NO_NAME || len !== lower.length) return false;
    const start = this.#headPtr + off;
    for (let k = 0; k < len; k++) {
      let b = memoryBytes[start + k]!;
      // Fold A-Z only: `b | 0x20` alone would also equate "^" with "~", both legal in names.
      if (b >= 0x41 && b <= 0x5a) b |= 0x20;
      if (b !== lower.charCodeAt(k)) return false;
    }
    return true;
  }
}

export type { RequestParser };

let parser: RequestParser | null = null;

/** The process's RequestParser. The first call of the process (or of anything else here that
 *  needs the shared instance) loads the parser: `build` "scalar" asks for the scalar build
 *  (PRONGHORN_NO_WASM_SIMD=1), "simd" (the default) for SIMD128 where the engine has it. Asking
 *  for "scalar" once the SIMD build is loaded throws: the choice is made once per process. */
export function requestParser(build: "simd" | "scalar" = "simd"): RequestParser {
  if (wasm === null) load(build);
  else if (build === "scalar" && simd) {
    throw new Error("pronghorn: the scalar wasm parser was asked for after the SIMD build was loaded; choose the build in the first requestParser() call");
  }
  return parser ??= new RequestParser();
}

function growScratch(size: number): void {
  const e = shared();
  const want = Math.ceil(size / SCRATCH_STEP_BYTES) * SCRATCH_STEP_BYTES;
  if (scratchPtr !== 0) e.free(scratchPtr);
  scratchPtr = 0;
  scratchSize = 0;
  scratchPtr = reserve(want);
  scratchSize = want;
}

// Frees the wasm state of decoders collected without dispose().
const undisposed = new FinalizationRegistry<number>((decoder) => (wasm as ParserExports).pg_chunked_free(decoder));

/**
 * Chunked body decoder: pg_decode_chunked (wasm/src/batch.h), which accepts exactly the RFC 9112
 * §7.1 grammar (chunk extensions and trailer lines included) where picohttpparser's
 * phr_decode_chunked is lax, over input the caller keeps. Each call copies `input` into wasm
 * memory piece by piece, decodes there in place, and hands the decoded payload out as copies.
 * consumeTrailer (default true) as picohttpparser's consume_trailer; maxBytes > 0 refuses a body
 * whose declared chunk sizes add up to more, as soon as such a size is read. The decoder's state
 * lives in wasm memory until dispose(); one that is collected undisposed is freed then, so a
 * forgotten dispose() cannot slowly fill the fixed memory. One decoder per body: a new one costs
 * what a reset would (pg_chunked_new), so none is reused.
 */
export class ChunkedDecoder {
  #decoder: number;
  #inData = false;

  constructor(consumeTrailer = true, maxBytes = 0) {
    const e = wasm ?? load("simd");
    const decoder = e.pg_chunked_new(consumeTrailer ? 1 : 0, maxBytes);
    if (decoder === 0) throw new RangeError("pronghorn: no wasm parser memory left for a chunked decoder");
    this.#decoder = decoder;
    undisposed.register(this, decoder, this);
  }

  /**
   * Decode the next piece of the body. Decoded payload is handed to onData (bytes the caller owns,
   * i.e. a copy, never a view into wasm memory). Returns a negative CHUNKED_* error, PARSE_PARTIAL
   * (all of `input` consumed, need more), or n >= 0: the body is complete and the LAST n bytes of
   * `input` are not part of it (the next pipelined request). Payload decoded in the piece that
   * fails is dropped.
   */
  decode(input: Uint8Array, onData: (payload: Uint8Array) => void): number {
    if (this.#decoder === 0) throw new Error("pronghorn: ChunkedDecoder used after dispose()");
    if (piecePtr === 0) piecePtr = reserve(CHUNK_PIECE_BYTES);
    let pos = 0;
    while (pos < input.length) {
      const n = Math.min(CHUNK_PIECE_BYTES, input.length - pos);
      memoryBytes.set(input.subarray(pos, pos + n), piecePtr);
      pos += n;
      const ret = pgDecodeChunked(this.#decoder, piecePtr, n);
      this.#inData = words[W_IN_DATA] === 1;
      if (ret < 0 && ret !== PARSE_PARTIAL) return ret;
      const decoded = words[W_DECODED_BYTES]!;
      // onData may re-enter (another connection's decode); nothing in wasm memory is read after it.
      if (decoded > 0) onData(memoryBytes.slice(piecePtr, piecePtr + decoded));
      if (ret >= 0) return ret + (input.length - pos);
    }
    return PARSE_PARTIAL;
  }

  /** Whether the last decode() stopped inside chunk data. */
  get inData(): boolean {
    return this.#decoder !== 0 && this.#inData;
  }

  dispose(): void {
    if (this.#decoder === 0) return;
    undisposed.unregister(this);
    (wasm as ParserExports).pg_chunked_free(this.#decoder);
    this.#decoder = 0;
  }
}

/** A short reason for a negative ChunkedDecoder.decode() result, for the log line. */
export function chunkedError(code: number): string {
  switch (code) {
    case CHUNKED_EXT_TOO_LONG: return `chunk extensions over ${CHUNK_EXT_MAX_BYTES} bytes`;
    case CHUNKED_TRAILER_TOO_LONG: return `trailer section over ${TRAILER_MAX_BYTES} bytes`;
    case CHUNKED_MOSTLY_FRAMING: return "chunked body that is mostly framing";
    case CHUNKED_TOO_LARGE: return "chunk size over the body limit";
    default: return "malformed chunked request body";
  }
}
