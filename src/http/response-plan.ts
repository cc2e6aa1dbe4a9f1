/**
 * Plans one response: the request head, the app's Response and what the connection knows (a
 * ConnectionFacts bit set) in; a ResponsePlan out: status, the head (with a short body appended
 * when that makes one write), the body to write or stream and its framing (Content-Length for
 * strings, bytes, Blobs and streams with a length; chunked for other streams to HTTP/1.1;
 * close-delimited to HTTP/1.0), whether 100 Continue goes first, and whether the connection stays
 * open. keepAliveAfter() below is the one place that last question is answered. A plain function:
 * it reads the app's Response (app code, which may throw: the caller's catch makes that a 500)
 * but writes nothing and changes no connection state.
 */
import { CONN_CLOSE, CONN_KEEP_ALIVE, type RequestHead } from "./framing.js";
import { NativeResponse } from "./fast-response.js";
import { newResponseParts, readResponse, type PlatformBody } from "./app-response.js";
import { finalHead } from "./response-head.js";
import { PUMP_CHUNKED, PUMP_CLOSE_DELIMITED, PUMP_LENGTH } from "./stream-pump.js";
import { latin1Bytes, utf8Bytes, utf8Length } from "./text-encoding.js";
import { Refusal } from "./refusal.js";

// ConnectionFacts: what the connection knows that bears on keeping it open, as bits.
/** Keep-alive is on, the server is not stopping, the peer has not ended its side, and
 *  --max-keepalive-reqs leaves room for another request. */
export const CAN_REUSE = 1;
/** The request body has not all arrived yet. */
export const BODY_UNREAD = 2;
/** ...and what is left may be read and dropped (chunked, or at most MAX_SKIP_BYTES). */
export const BODY_SKIPPABLE = 4;
/** ...and the client waits for 100 Continue before sending it. */
export const CONTINUE_OWED = 8;

/** Bodies of at most this many UTF-16 units go out appended to the head, in one string write. */
const JOIN_BODY_MAX = 65536;

export interface ResponsePlan {
  status: number;
  /** Whether the connection stays open after this response. */
  keepAlive: boolean;
  /** 100 Continue goes out just before the head: the stream may read the request body, and the
   *  client may be waiting for it to send that (RFC 9110 §15.2). */
  sendContinue: boolean;
  /** The head, or the head with the whole body appended; latin1 bytes when a line is not ASCII. */
  head: string | Uint8Array;
  /** Body bytes to write with the head in one call (writev), or null. */
  body: Uint8Array | null;
  /** The body bytes a whole response sends (0 for HEAD, 204, 304), for the access log. */
  bodyBytes: number;
  /** A stream body to pump after the head, framed by pumpMode; null for a whole response. */
  stream: ReadableStream<Uint8Array> | null;
  pumpMode: number;
  /** The stream's declared length, or -1. */
  length: number;
  /** A stream body this response must not carry (HEAD, 204, 304): the caller cancels it. */
  unsent: ReadableStream<Uint8Array> | null;
}

// Scratch for readResponse, private to this module and done with inside one planResponse() call.
// One allocated per response measured 2-4% slower in an in-process Connection: close loop on
// Node 26 (a fake socket, 200k connections, alternated runs); under wrk it is lost in the noise.
const parts = newResponseParts();

function plan(status: number, keepAlive: boolean, sendContinue: boolean, head: string | Uint8Array, body: Uint8Array | null,
  bodyBytes: number, stream: ReadableStream<Uint8Array> | null, pumpMode: number, length: number,
  unsent: ReadableStream<Uint8Array> | null): ResponsePlan {
  return { status, keepAlive, sendContinue, head, body, bodyBytes, stream, pumpMode, length, unsent };
}

/**
 * Whether the connection stays open after this response: RFC 9112 §9.3 (HTTP/1.1 persists unless
 * either side says close; HTTP/1.0 only with keep-alive and a body whose end the client can
 * find), the app's `Connection: close`, and the connection's facts. An unread request body is
 * read and dropped when it is small or chunked, never parsed as a request; one the client holds
 * back for a 100 Continue this response does not send means closing.
 */
export function keepAliveAfter(req: RequestHead, appClose: boolean, lengthKnown: boolean, facts: number, continueSent: boolean): boolean {
  return (facts & CAN_REUSE) !== 0 && !appClose &&
    (req.connection & CONN_CLOSE) === 0 &&
    (req.minor === 1 || ((req.connection & CONN_KEEP_ALIVE) !== 0 && lengthKnown)) &&
    ((facts & BODY_UNREAD) === 0 ||
      ((facts & BODY_SKIPPABLE) !== 0 && ((facts & CONTINUE_OWED) === 0 || continueSent)));
}

function connectionLine(keepAlive: boolean, minor: number): string {
  return keepAlive ? (minor === 0 ? "connection: keep-alive\r\n" : "") : "connection: close\r\n";
}

/** Plan the response to `req`, or return a Refusal (500) when `res` cannot be sent. */
export function planResponse(res: unknown, req: RequestHead, facts: number, platformBody: PlatformBody | undefined): ResponsePlan | Refusal {
  if (!(res instanceof NativeResponse)) {
    const what = res === null ? "null" : typeof res === "object" ? (res.constructor?.name ?? "an object") : typeof res;
    return new Refusal(500, `the fetch handler returned ${what}, not a Response`);
  }
  const p = readResponse(res, platformBody, parts);
  if (p instanceof Refusal) return new Refusal(500, `the response cannot be sent: ${p.why}`);
  const status = p.status;
  const noBody = req.method === "HEAD" || status === 204 || status === 304 || status < 200;
  const body = p.body;
  p.body = null; // the scratch must not keep a body alive until the next response
  if (typeof body === "string" || body instanceof Uint8Array || body === null) {
    const bytes = typeof body === "string" ? (body.length < JOIN_BODY_MAX ? null : utf8Bytes(body)) : body;
    const len = body === null ? 0 : bytes !== null ? bytes.length : utf8Length(body as string);
    const framing = status === 204 || status === 304 || status < 200 ? "" : `content-length: ${len}\r\n`;
    const keepAlive = keepAliveAfter(req, p.close, true, facts, false);
    const text = finalHead(p, framing, connectionLine(keepAlive, req.minor));
    if (noBody || len === 0) return plan(status, keepAlive, false, p.ascii ? text : latin1Bytes(text), null, 0, null, 0, -1, null);
    if (p.ascii && bytes === null) return plan(status, keepAlive, false, text + (body as string), null, len, null, 0, -1, null);
    return plan(status, keepAlive, false, p.ascii ? text : latin1Bytes(text), bytes ?? utf8Bytes(body as string), len, null, 0, -1, null);
  }
  const stream = body instanceof Blob ? body.stream() : body;
  const length = body instanceof Blob ? body.size : p.length;
  if (noBody) {
    const framing = length >= 0 && status !== 204 && status !== 304 ? `content-length: ${length}\r\n` : "";
    const keepAlive = keepAliveAfter(req, p.close, true, facts, false);
    const text = finalHead(p, framing, connectionLine(keepAlive, req.minor));
    return plan(status, keepAlive, false, p.ascii ? text : latin1Bytes(text), null, 0, null, 0, -1, stream);
  }
  const mode = length >= 0 ? PUMP_LENGTH : req.minor === 1 ? PUMP_CHUNKED : PUMP_CLOSE_DELIMITED;
  const framing = mode === PUMP_LENGTH ? `content-length: ${length}\r\n`
    : mode === PUMP_CHUNKED ? "transfer-encoding: chunked\r\n" : "";
  const sendContinue = (facts & CONTINUE_OWED) !== 0 && (facts & BODY_UNREAD) !== 0;
  const keepAlive = keepAliveAfter(req, p.close, mode !== PUMP_CLOSE_DELIMITED, facts, true);
  const text = finalHead(p, framing, connectionLine(keepAlive, req.minor));
  return plan(status, keepAlive, sendContinue, p.ascii ? text : latin1Bytes(text), null, 0, stream, mode, length, null);
}
