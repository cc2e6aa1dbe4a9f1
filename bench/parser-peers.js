// The parsers bench/parser.bench.js compares ours with, each driven to the same end: method,
// target and every header name and value as JS strings. The drivers are ours, written after
// reading how node:http (lib/_http_common.js) and undici (lib/dispatcher/client-h1.js) use them.
// Each function takes a Buffer holding one whole request head and returns
// { method, target, headers: [name0, value0, name1, value1, ...] }.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/**
 * Node's built-in llhttp binding, the HTTPParser class node:http itself drives (exported by the
 * internal-but-public `_http_common`). Headers arrive as a flat array of strings in
 * onHeadersComplete, or, past 32 pairs, in onHeaders flushes (node's kMaxHeaderFieldsCount).
 */
export function nodeLlhttp() {
  const { HTTPParser, methods } = require("_http_common");
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {}, 0, 0);
  let result = null;
  // As lib/_http_common.js does: once a request has flushed, its fields come through onHeaders
  // (url included) and onHeadersComplete gets neither headers nor url.
  let pendingHeaders = [];
  let pendingUrl = "";
  parser[HTTPParser.kOnHeaders] = (headers, url) => {
    for (let i = 0; i < headers.length; i++) pendingHeaders.push(headers[i]);
    pendingUrl += url;
  };
  parser[HTTPParser.kOnHeadersComplete] = (major, minor, headers, method, url) => {
    if (!headers) {
      headers = pendingHeaders;
      pendingHeaders = [];
    }
    if (!url) {
      url = pendingUrl;
      pendingUrl = "";
    }
    result = { method: methods[method], target: url, headers };
    return 0;
  };
  parser[HTTPParser.kOnBody] = () => {};
  parser[HTTPParser.kOnMessageComplete] = () => {};
  return function parse(chunk) {
    result = null;
    const ret = parser.execute(chunk);
    if (ret instanceof Error) throw ret;
    return result;
  };
}

/**
 * undici's llhttp wasm build (SIMD, as undici loads it first), driven the way client-h1 does:
 * one instance, the chunk copied into a malloc'd input area, llhttp_execute, span callbacks as
 * wasm imports that map `at` back to an offset in the original JS chunk. Each span is turned
 * into a string with latin1Slice on that chunk (the fastest per-field decode we measured), or,
 * with `decodeOnce`, the chunk is decoded once and each span is a substring of it, the trick our
 * own binding uses, to separate the parser's share from the decoding's.
 */
export function undiciLlhttp({ simd = true, decodeOnce = false } = {}) {
  const bytes = require(simd ? "undici/lib/llhttp/llhttp_simd-wasm.js" : "undici/lib/llhttp/llhttp-wasm.js");
  const { TYPE, ERROR } = require("undici/lib/llhttp/constants.js");
  let chunk = null;
  let chunkText = "";
  let bufPtr = 0;
  let bufSize = 0;
  let method = "";
  let target = "";
  let headers = [];
  let lastWasValue = true;
  let complete = false;
  const span = (at, len) => {
    const start = at - bufPtr;
    return decodeOnce ? chunkText.substring(start, start + len) : chunk.latin1Slice(start, start + len);
  };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    env: {
      wasm_on_message_begin: () => 0,
      wasm_on_url: (p, at, len) => {
        target += span(at, len);
        return 0;
      },
      wasm_on_status: () => 0,
      wasm_on_header_field: (p, at, len) => {
        if (lastWasValue) {
          headers.push(span(at, len), "");
          lastWasValue = false;
        } else {
          headers[headers.length - 2] += span(at, len);
        }
        return 0;
      },
      wasm_on_header_value: (p, at, len) => {
        headers[headers.length - 1] += span(at, len);
        lastWasValue = true;
        return 0;
      },
      wasm_on_headers_complete: (p) => {
        method = methodName(llhttp.llhttp_get_method(p));
        complete = true;
        return 0;
      },
      wasm_on_body: () => 0,
      wasm_on_message_complete: () => 0,
    },
  });
  const llhttp = instance.exports;
  llhttp._initialize?.();
  const names = [];
  const methodName = (m) => (names[m] ??= cString(llhttp.llhttp_method_name(m)));
  const cString = (ptr) => {
    const mem = new Uint8Array(llhttp.memory.buffer);
    let end = ptr;
    while (mem[end] !== 0) end++;
    return String.fromCharCode(...mem.subarray(ptr, end));
  };
  const parser = llhttp.llhttp_alloc(TYPE.REQUEST);
  return function parse(buf) {
    if (buf.length > bufSize) {
      if (bufPtr) llhttp.free(bufPtr);
      bufSize = Math.ceil(buf.length / 4096) * 4096;
      bufPtr = llhttp.malloc(bufSize);
    }
    new Uint8Array(llhttp.memory.buffer, bufPtr, bufSize).set(buf);
    chunk = buf;
    if (decodeOnce) chunkText = buf.latin1Slice(0, buf.length);
    target = "";
    headers = [];
    lastWasValue = true;
    complete = false;
    const ret = llhttp.llhttp_execute(parser, bufPtr, buf.length);
    chunk = null;
    if (ret !== ERROR.OK || !complete) throw new Error(`llhttp_execute returned ${ret}`);
    return { method, target, headers };
  };
}
