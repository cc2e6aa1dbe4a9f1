/**
 * One HTTP/1.1 connection: parse heads (incrementally, with last_len), frame bodies, dispatch one
 * request at a time to the app, keep-alive and pipelining, HTTP/1.0 rules, the three timeouts;
 * the ResponseWriter it extends puts the answers on the socket in request order and asks it
 * whether the connection stays open. Bytes arrive as views the runtime reuses (on Node, wasm memory itself):
 * a head that arrives whole is parsed where it lies, and only what must outlive the call (a
 * partial head, pipelined requests, body bytes) is copied. Every protocol error gets a status and
 * a short reason, then the connection closes (RFC 9112 §6.3: never guess framing).
 *
 * Input side (#in):
 *   HEAD     waiting for or reading a request head (#pending holds a partial one)
 *   BODY     reading the current request's body; once the response is done it is skipped
 *   HOLD     the request is read, its response is not done: later bytes wait in #pending
 *   CLOSING  FIN sent or about to be: input is ignored until the peer closes or we give up
 *   CLOSED   the socket is gone
 * Output side (#out):
 *   IDLE     no request in progress      APP   the app has the request
 *   STREAM   head written, body streaming (the writer's StreamPump)
 */
import type { Listener, RemoteAddr, Socket, SocketEvents } from "../runtime/runtime.js";
import {
  CHUNKED_TOO_LARGE, MAX_HEADERS, PARSE_PARTIAL, PARSE_TOO_MANY_HEADERS, ChunkedDecoder, chunkedError, parseRequest,
  parseRequestBytes,
} from "./parser.js";
import {
  BODY_CHUNKED, BODY_NONE, CONN_CLOSE, CONN_KEEP_ALIVE, headError, headTooLarge, readHead, rejectStatus,
  type RequestHead,
} from "./framing.js";
import { RequestBody, type BodyOwner } from "./body.js";
import { PronghornRequest } from "./request.js";
import type { ResponseParts } from "./response.js";
import { NativeResponse } from "./fast-response.js";
import { CONTINUE_100, ResponseWriter } from "./response-writer.js";
import { errorHead } from "./errors.js";
import type { ConnectionHost, ServeInfo } from "./server.js";

const HEAD = 0;
const BODY = 1;
const HOLD = 2;
const CLOSING = 3;
const CLOSED = 4;

const IDLE = 0;
const APP = 1;
const STREAM = 2;

const T_NONE = 0;
const T_HEADER = 1;
const T_IDLE = 2;
const T_READ = 3;
const T_WRITE = 4;
const T_LINGER = 5;

/** Unread request body we skip to keep a connection alive; past it we close instead. */
const MAX_SKIP_BYTES = 64 * 1024;
/** How long to wait for the peer's FIN after ours, reading and dropping what it still sends. */
const LINGER_MS = 2000;
/** During a graceful stop, how long an idle connection (new, or between requests) may stay
 *  silent before we close it. Closing at once races a request already on its way: the client
 *  sees a close before any response and cannot tell whether it was served (nginx answers a
 *  non-idempotent one with 502). A connection in use sends its next request within this and
 *  gets it answered with `Connection: close`; waiting out the full --keepalive-timeout or
 *  --header-timeout would hold a stopping worker for every quiet keep-alive or preconnect. */
export const DRAIN_IDLE_MS = 1000;
/** Pipelined bytes held while a response is pending; past it we stop reading. */
const MAX_HELD_BYTES = 256 * 1024;

const PAUSE_BODY = 1;
const PAUSE_HELD = 2;

export class Connection extends ResponseWriter implements SocketEvents, BodyOwner {
  readonly socket: Socket;
  /** The sweeper's deadline (coarse clock, ms) for the current wait, or 0. */
  deadline = 0;
  /** The ServeInfo the server made for this connection (one per connection, not per request). */
  info: ServeInfo | null = null;
  #host: ConnectionHost;
  #defaultHost: string;
  /** The read buffer's memory when the socket reads into it (Socket.readsIntoBuffer), else null. */
  #wasmBuffer: ArrayBufferLike | null;
  #in = HEAD;
  #out = IDLE;
  #timer = T_HEADER;
  /** When the current head's --header-timeout runs out (a drain may set an earlier deadline). */
  #headDeadline = 0;
  #pending: Uint8Array = EMPTY;
  #pendingLen = 0;
  #lastLen = 0;
  #looping = false;
  #paused = 0;
  #peerEnded = false;
  #requests = 0;
  // the request in progress
  #head: RequestHead | null = null;
  #req: PronghornRequest | null = null;
  #body: RequestBody | null = null;
  #remaining = 0;
  #decoder: ChunkedDecoder | null = null;
  #bodyTotal = 0;
  #skipped = 0;
  #continueOwed = false;

  constructor(host: ConnectionHost, socket: Socket, listener: Listener, wasmBuffer: ArrayBufferLike) {
    super(socket, host);
    this.#host = host;
    this.socket = socket;
    this.#defaultHost = host.defaultHost(listener);
    this.#wasmBuffer = socket.readsIntoBuffer ? wasmBuffer : null;
    this.#setTimer(T_HEADER, host.options.headerTimeoutMs);
  }

  get remote(): RemoteAddr {
    return this.socket.remote;
  }

  // ---- socket events ---------------------------------------------------------------------

  data(bytes: Uint8Array): void {
    const st = this.#in;
    if (st >= CLOSING) return;
    if (st === HEAD && this.#timer === T_IDLE) this.#setTimer(T_HEADER, this.#host.options.headerTimeoutMs);
    else if (st === BODY) this.#setTimer(T_READ, this.#host.options.timeoutMs);
    if (this.#pendingLen === 0) {
      const off = this.#consume(bytes, 0, bytes.length);
      if (off < bytes.length && this.#in < CLOSING) this.#keep(bytes, off);
    } else {
      this.#keep(bytes, 0);
      this.#consumePending();
    }
  }

  drain(): void {
    if (!this.blocked) return; // else drained() clears it
    if (this.#timer === T_WRITE) this.#setTimer(T_NONE, 0);
    if (this.drained()) return;
    if (this.#in === HEAD) this.#afterRequest();
    else if (this.#in === CLOSING) this.#setTimer(T_LINGER, LINGER_MS);
  }

  end(): void {
    this.#peerEnded = true;
    if (this.#in === HEAD && this.#out === IDLE) {
      this.#close();
    } else if (this.#in === BODY) {
      const err = new Error("pronghorn: the client closed its side before the request body was complete");
      if (this.#out === APP) this.#fail(400, "request body incomplete at end of input", err);
      else this.#cut("request body incomplete at end of input", err);
    }
    // HOLD: the response still goes out (a half-closing client waits for it), then the
    // connection closes. Like node:http (httpAllowHalfOpen false), EOF also counts as the
    // client going away for request.signal, so an app waiting on it stops.
    if (this.#out !== IDLE) this.#req?.abort(new Error("pronghorn: the client closed its side of the connection"));
  }

  close(): void {
    if (this.#in === CLOSED) return;
    this.#in = CLOSED;
    this.deadline = 0;
    // An Error (its stack) per connection cost more than the rest of a Connection: close
    // request; make one only when a request is still in flight to be told.
    if (this.#out !== IDLE || (this.#body !== null && !this.#body.ended)) {
      const gone = new Error("pronghorn: the client went away");
      if (this.#out !== IDLE) this.#req?.abort(gone);
      this.#body?.fail(gone);
      this.cancel(gone);
    }
    this.#decoder?.dispose();
    this.#decoder = null;
    this.#host.removed(this);
  }

  // ---- input --------------------------------------------------------------------------------

  #consume(buf: Uint8Array, off: number, end: number): number {
    this.#looping = true;
    while (off < end) {
      const st = this.#in;
      if (st === HEAD) {
        if (this.blocked) break; // the client is not reading our answers: stop parsing
        const n = this.#parseHead(buf, off, end);
        if (n === 0) break;
        off += n;
      } else if (st === BODY) {
        off += this.#bodyBytes(buf, off, end);
      } else if (st === HOLD) {
        break;
      } else {
        off = end;
      }
    }
    this.#looping = false;
    return off;
  }

  #consumePending(): void {
    if (this.#looping || this.#pendingLen === 0) return;
    const buf = this.#pending;
    const end = this.#pendingLen;
    const off = this.#consume(buf, 0, end);
    if (this.#in >= CLOSING) this.#pendingLen = 0;
    else if (off > 0) {
      buf.copyWithin(0, off, end);
      this.#pendingLen = end - off;
    }
    if (this.#paused & PAUSE_HELD && this.#pendingLen < MAX_HELD_BYTES) this.#resume(PAUSE_HELD);
  }

  // Copy bytes[off..] after the pending bytes (the runtime reuses `bytes` after data() returns).
  #keep(bytes: Uint8Array, off: number): void {
    const n = bytes.length - off;
    const need = this.#pendingLen + n;
    if (need > this.#pending.length) {
      const grown = new Uint8Array(Math.max(need, this.#pending.length * 2, 4096));
      grown.set(this.#pending.subarray(0, this.#pendingLen));
      this.#pending = grown;
    }
    this.#pending.set(off === 0 ? bytes : bytes.subarray(off), this.#pendingLen);
    this.#pendingLen = need;
    // Bytes pile up here while a response is pending (HOLD) and while the client does not read
    // our answers (HEAD with a blocked write, where parsing stops): either way, stop reading.
    if ((this.#in === HOLD || this.blocked) && need > MAX_HELD_BYTES) this.#pause(PAUSE_HELD);
  }

  // Returns the head length consumed, or 0 when the head is partial (the caller keeps the bytes)
  // or rejected (the connection is closing).
  #parseHead(buf: Uint8Array, off: number, end: number): number {
    const opts = this.#host.options;
    const len = end - off;
    const r = this.#wasmBuffer !== null && buf.buffer === this.#wasmBuffer
      ? parseRequest(buf.byteOffset + off, len, this.#lastLen)
      : parseRequestBytes(buf.subarray(off, end), this.#lastLen);
    if (r > 0) {
      this.#lastLen = 0;
      if (r > opts.maxHeaderSize) return this.#fail(headTooLarge(buf.subarray(off, end), opts.maxHeaderSize), headError);
      const head = readHead(opts.maxBodySize);
      if (typeof head === "number") return this.#fail(head, headError);
      this.#dispatch(head);
      return r;
    }
    if (r === PARSE_PARTIAL) {
      if (len < opts.maxHeaderSize) {
        this.#lastLen = len;
        return 0;
      }
      return this.#fail(headTooLarge(buf.subarray(off, end), opts.maxHeaderSize), headError);
    }
    if (r === PARSE_TOO_MANY_HEADERS) return this.#fail(431, `more than ${MAX_HEADERS} header lines`);
    return this.#fail(rejectStatus(buf.subarray(off, end)), headError);
  }

  #bodyBytes(buf: Uint8Array, off: number, end: number): number {
    this.#continueOwed = false; // the client sent the body without waiting for 100
    if (this.#decoder === null) {
      const n = Math.min(this.#remaining, end - off);
      this.#remaining -= n;
      this.#took(buf.slice(off, off + n));
      if (this.#remaining === 0 && this.#in === BODY) this.#bodyComplete();
      return n;
    }
    const input = buf.subarray(off, end);
    const r = this.#decoder.decode(input, this.#onChunk);
    if (this.#in !== BODY) return input.length; // #took failed the request
    if (r === PARSE_PARTIAL) return input.length;
    if (r < 0) {
      // A chunk size past --max-body-size is refused when its line is read, not after its data.
      if (r === CHUNKED_TOO_LARGE) this.#bodyError(413, `request body over ${this.#host.options.maxBodySize} bytes (a chunk size)`);
      else this.#bodyError(400, chunkedError(r));
      return input.length;
    }
    this.#bodyComplete();
    return input.length - r;
  }

  #onChunk = (payload: Uint8Array): void => {
    if (this.#in === BODY) this.#took(payload);
  };

  #took(chunk: Uint8Array): void {
    this.#bodyTotal += chunk.length;
    const max = this.#host.options.maxBodySize;
    if (max > 0 && this.#bodyTotal > max) {
      this.#bodyError(413, `request body over ${max} bytes`);
    } else if (this.#out === APP || this.#out === STREAM) {
      this.#body!.push(chunk);
    } else if ((this.#skipped += chunk.length) > MAX_SKIP_BYTES) {
      this.#close(); // the response is out; this much unread body is not worth reading
    }
  }

  #bodyComplete(): void {
    this.#decoder?.dispose();
    this.#decoder = null;
    this.#body!.end();
    if (this.#timer === T_READ) this.#setTimer(T_NONE, 0);
    if (this.#out === IDLE) this.#afterRequest();
    else this.#in = HOLD;
  }

  #bodyError(status: number, why: string): void {
    const err = new Error(`pronghorn: ${why}`);
    if (this.#out === APP) this.#fail(status, why, err);
    else this.#cut(`${status}: ${why}`, err);
  }

  // ---- BodyOwner ------------------------------------------------------------------------------

  bodyWanted(): void {
    // A 1xx after the final head would land inside the response body: #respond sends it
    // with the head instead when a response stream starts before the body is wanted.
    if (this.#continueOwed && this.#in === BODY && this.#out === APP) {
      this.#continueOwed = false;
      this.socket.write(CONTINUE_100);
    }
    if (this.#paused & PAUSE_BODY) this.#resume(PAUSE_BODY);
  }

  bodyFull(): void {
    this.#pause(PAUSE_BODY);
  }

  #pause(why: number): void {
    if (this.#paused === 0) this.socket.pause();
    this.#paused |= why;
    if (this.#timer === T_READ) this.#setTimer(T_NONE, 0);
  }

  #resume(why: number): void {
    this.#paused &= ~why;
    if (this.#paused !== 0 || this.#in >= CLOSING) return;
    this.socket.resume();
    if (this.#in === BODY) this.#setTimer(T_READ, this.#host.options.timeoutMs);
  }

  // ---- dispatch, and what the ResponseWriter asks of us (its abstract methods) --------------

  #dispatch(head: RequestHead): void {
    this.#requests++;
    this.#head = head;
    this.#bodyTotal = 0;
    this.#skipped = 0;
    let body: RequestBody | null = null;
    if (head.bodyKind === BODY_NONE) {
      this.#in = HOLD;
      this.#setTimer(T_NONE, 0);
    } else {
      body = new RequestBody(this);
      this.#in = BODY;
      if (head.bodyKind === BODY_CHUNKED) this.#decoder = new ChunkedDecoder(true, this.#host.options.maxBodySize);
      else this.#remaining = head.contentLength;
      this.#continueOwed = head.expectContinue;
      this.#setTimer(T_READ, this.#host.options.timeoutMs);
    }
    this.#body = body;
    const req = new PronghornRequest(head, this.#defaultHost, body);
    this.#req = req;
    this.#out = APP;
    const host = this.#host;
    host.hooks.onRequest();
    let res: unknown;
    try {
      res = host.fetch(req as unknown as Request, host.infoFor(this));
      // Inside the try: a thenable's `then` getter or call is app code too.
      if (!(res instanceof NativeResponse) && res !== null && typeof (res as PromiseLike<unknown>)?.then === "function") {
        (res as PromiseLike<unknown>).then(
          (value) => {
            if (this.#req === req && this.#out === APP) this.respond(value);
          },
          (error: unknown) => {
            if (this.#req === req && this.#out === APP) this.appFailed(error, this.#head!);
          },
        );
        return;
      }
    } catch (error) {
      this.appFailed(error, this.#head!);
      return;
    }
    this.respond(res);
  }

  // Reading the app's Response runs app code (header getters, a Proxy, a locked or disturbed
  // body stream): whatever throws before the head is written is the app failing, a 500; it must
  // never escape into the socket callback and take the worker down.
  protected respond(res: unknown): void {
    if (this.#out !== APP) return;
    try {
      this.send(res, this.#head!);
    } catch (error) {
      if (this.#out === APP) this.appFailed(error, this.#head!);
      else this.#destroy(error);
    }
  }

  protected keepAliveAfter(p: ResponseParts, lengthKnown: boolean): boolean {
    const h = this.#head!;
    const opts = this.#host.options;
    return opts.keepaliveTimeoutMs > 0 && !this.#host.draining && !this.#peerEnded && !p.close &&
      (h.connection & CONN_CLOSE) === 0 &&
      (h.minor === 1 || ((h.connection & CONN_KEEP_ALIVE) !== 0 && lengthKnown)) &&
      (opts.maxKeepaliveReqs === 0 || this.#requests < opts.maxKeepaliveReqs) &&
      // an unread body: skip a little of it, else close (never parse body bytes as a request)
      (this.#in !== BODY || (!this.#continueOwed && (this.#decoder !== null || this.#remaining <= MAX_SKIP_BYTES)));
  }

  protected takeContinue(): boolean {
    const owed = this.#continueOwed && this.#in === BODY;
    this.#continueOwed = false;
    return owed;
  }

  protected streaming(): void {
    this.#out = STREAM;
  }

  protected writeBlocked(): void {
    this.#setTimer(T_WRITE, this.#host.options.timeoutMs);
  }

  protected streamFailed(error: unknown): void {
    this.#destroy(error); // the client must not take a truncated body for a whole one
  }

  protected responseDone(keepAlive: boolean): void {
    this.#out = IDLE;
    this.#req = null;
    if (this.#in === CLOSED) return;
    if (!keepAlive) {
      this.#close();
    } else if (this.#in === BODY) {
      this.#body!.drop(); // wait for the rest of the body, dropping it (#took counts the skip)
    } else if (this.#in === HOLD) {
      this.#afterRequest();
    }
  }

  // Both the body and the response are done: back to HEAD for the next request.
  #afterRequest(): void {
    this.#in = HEAD;
    this.#head = null;
    this.#body = null;
    if (this.#peerEnded) {
      this.#close();
      return;
    }
    if (this.blocked) return; // drain() brings us back here
    this.#setTimer(this.#pendingLen > 0 ? T_HEADER : T_IDLE,
      this.#pendingLen > 0 ? this.#host.options.headerTimeoutMs : this.#host.options.keepaliveTimeoutMs);
    this.#consumePending();
  }

  /** 1xx (e.g. 103 Early Hints), written at once; nothing is sent to an HTTP/1.0 client. */
  informational(status: number, headers?: HeadersInit): void {
    this.writeInformational(status, headers, this.#out === APP, this.#head?.minor === 1 && this.#in < CLOSING);
  }

  // ---- closing --------------------------------------------------------------------------------

  /** Send a status and a short reason, log the peer and the cause, and close. Returns 0. */
  #fail(status: number, why: string, error?: unknown): number {
    const peer = this.remote;
    const from = peer.transport === "unix" ? "a unix socket peer" : `${peer.hostname}:${peer.port}`;
    this.#host.log(`pronghorn: ${status}: ${why} from ${from}`);
    if (this.#out !== IDLE) {
      this.#req?.abort(error ?? new Error(`pronghorn: ${why}`));
      this.#body?.fail(error ?? new Error(`pronghorn: ${why}`));
    }
    if (this.#out === STREAM || this.#in >= CLOSING) {
      this.#destroy(error);
      return 0;
    }
    this.#out = IDLE;
    this.socket.write(errorHead(status));
    this.#close();
    return 0;
  }

  // FIN after what is queued; read and drop until the peer closes too, or LINGER_MS passes
  // (closing with unread input would send RST and could destroy the response in flight).
  #close(): void {
    if (this.#in >= CLOSING) return;
    this.#in = CLOSING;
    this.#pendingLen = 0;
    this.#pending = EMPTY;
    this.#head = null; // a closing connection lingers: let the request's garbage go young
    // The decoder may be mid-decode (we can get here from its onData): close() disposes it.
    this.#body?.drop();
    if (this.#paused !== 0) {
      this.#paused = 0;
      this.socket.resume();
    }
    this.socket.end();
    if (this.blocked) this.#setTimer(T_WRITE, this.#host.options.timeoutMs);
    else this.#setTimer(T_LINGER, LINGER_MS);
  }

  // Mid-response (head sent, body incomplete) the connection is reset, not closed: a FIN would
  // make a close-delimited (HTTP/1.0) body look whole, and a reset tells every client framing
  // aside that the response was cut. Runtimes without reset() close as usual.
  #destroy(error?: unknown): void {
    if (this.#in === CLOSED) return;
    if (error !== undefined && this.#out !== IDLE) {
      // The response stream stops first: the request body failing next (abort() fails it) must
      // not reach a stream that reads it (an echo) and be logged as the response's failure.
      this.cancel(error instanceof Error ? error : new Error(String(error)));
      this.#req?.abort(error);
    }
    const socket = this.socket;
    if (this.#out === STREAM && socket.reset !== undefined) socket.reset();
    else socket.destroy();
  }

  /** The request's input failed (`why`) while its response was streaming, or after it: log it
   *  as the client's doing, then reset (a response in progress is cut, never made to look whole). */
  #cut(why: string, error: Error): void {
    if (this.#out === STREAM) {
      const peer = this.remote;
      const from = peer.transport === "unix" ? "a unix socket peer" : `${peer.hostname}:${peer.port}`;
      const h = this.#head;
      this.#host.log(`pronghorn: ${why} from ${from}${h === null ? "" : ` for ${h.method} ${h.target.slice(0, 200)}`}; its response was cut`);
    }
    this.#destroy(error);
  }

  /** Graceful stop: an idle connection closes if it stays silent for DRAIN_IDLE_MS; a busy one,
   *  or one whose next request comes in time, closes after its response (keepAliveAfter). */
  closeIfIdle(): void {
    if (this.#in !== HEAD || this.#out !== IDLE || this.#pendingLen !== 0) return;
    const soon = this.#host.deadline(DRAIN_IDLE_MS);
    if (this.deadline === 0 || soon < this.deadline) this.deadline = soon;
  }

  destroy(): void {
    this.#destroy(new Error("pronghorn: the server is shutting down"));
  }

  // ---- timeouts -------------------------------------------------------------------------------

  #setTimer(kind: number, ms: number): void {
    this.#timer = kind;
    this.deadline = kind === T_NONE || ms <= 0 ? 0 : this.#host.deadline(ms);
    if (kind === T_HEADER) this.#headDeadline = this.deadline;
  }

  /** The sweeper found our deadline passed. */
  timedOut(): void {
    const kind = this.#timer;
    this.deadline = 0;
    this.#timer = T_NONE;
    const opts = this.#host.options;
    if (kind === T_HEADER) {
      if (this.#pendingLen === 0 && this.#requests === 0) this.#destroy();
      else if (this.#headDeadline > this.#host.deadline(0)) {
        // closeIfIdle() cut the wait short, and the first bytes came since: the head gets its full time
        this.#timer = T_HEADER;
        this.deadline = this.#headDeadline;
      } else this.#fail(408, `request head not complete within ${opts.headerTimeoutMs} ms`);
    } else if (kind === T_READ && this.#out === APP) {
      this.#fail(408, `no request body bytes for ${opts.timeoutMs} ms`);
    } else if (kind === T_READ && this.#out === STREAM) {
      this.#cut(`408: no request body bytes for ${opts.timeoutMs} ms`, new Error(`pronghorn: no request body bytes for ${opts.timeoutMs} ms`));
    } else if (kind === T_IDLE) {
      this.#close();
    } else {
      this.#destroy(kind === T_WRITE ? new Error(`pronghorn: the client read nothing for ${opts.timeoutMs} ms`) : undefined);
    }
  }
}

const EMPTY = new Uint8Array(0);
