/**
 * One HTTP/1.1 connection: parse heads (incrementally, with last_len), frame bodies, dispatch one
 * request at a time to the app, keep-alive and pipelining, HTTP/1.0 rules, the three timeouts.
 * Bytes arrive as views the runtime reuses (on Node, wasm memory itself): a head that arrives
 * whole is parsed where it lies, and only what must outlive the call (a partial head, pipelined
 * requests, body bytes) is copied. Every protocol error gets a status and a short reason, then
 * the connection closes (RFC 9112 §6.3: never guess framing).
 *
 * The response path runs one way: planResponse() (response-plan.ts) turns the request head, the
 * app's Response and this connection's facts into a plan, keep-alive decision included; the
 * connection writes it, and every byte it sends (100 Continue, 1xx, error responses, heads,
 * stream chunks) goes through #write, which keeps the write-blocked bookkeeping.
 *
 * Input side (#in):
 *   HEAD     waiting for or reading a request head (#pending holds a partial one)
 *   BODY     reading the current request's body; once the response is done it is skipped
 *   HOLD     the request is read, its response is not done: later bytes wait in #pending
 *   CLOSING  FIN sent or about to be: input is ignored until the peer closes or we give up
 *   CLOSED   the socket is gone
 * Output side (#out):
 *   IDLE     no request in progress      APP   the app has the request
 *   STREAM   head written, body streaming (#pump)
 */
import type { Listener, RemoteAddr, Socket, SocketEvents } from "../runtime/runtime.js";
import { CHUNKED_TOO_LARGE, MAX_HEADERS, PARSE_PARTIAL, PARSE_TOO_MANY_HEADERS, ChunkedDecoder, chunkedError, type RequestParser } from "./parser.js";
import { BODY_CHUNKED, BODY_NONE, headTooLarge, readHead, rejectStatus, type RequestHead } from "./framing.js";
import { Refusal } from "./refusal.js";
import { RequestBody, type BodyOwner } from "./request-body.js";
import { PronghornRequest } from "./request.js";
import { FastResponse, NativeResponse } from "./fast-response.js";
import { BODY_SKIPPABLE, BODY_UNREAD, CAN_REUSE, CONTINUE_OWED, planResponse } from "./response-plan.js";
import { CONTINUE_100, errorResponse, informationalHead } from "./response-head.js";
import { StreamPump, type PumpSink } from "./stream-pump.js";
import { accessLine } from "./access-log.js";
import type { FetchHandler, ServeInfo } from "./app-contract.js";
import type { HttpHooks, HttpOptions } from "./server-options.js";

/** What a Connection needs from its server. */
export interface ConnectionHost {
  readonly fetch: FetchHandler;
  readonly options: HttpOptions;
  readonly hooks: HttpHooks;
  /** The process's request-head parser (one per process: it reads the shared wasm instance). */
  readonly parser: RequestParser;
  /** A graceful stop is under way: every response from now on closes its connection. */
  readonly stopping: boolean;
  infoFor(conn: Connection): ServeInfo;
  defaultHost(listener: Listener): string;
  /** The absolute coarse-clock deadline for a wait of `ms`. */
  deadline(ms: number): number;
  removed(conn: Connection): void;
  log(line: string): void;
}

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
export const STOP_IDLE_MS = 1000;
/** Pipelined bytes held while a response is pending; past it we stop reading. */
const MAX_HELD_BYTES = 256 * 1024;

const PAUSE_BODY = 1;
const PAUSE_HELD = 2;

// One object per connection, the response side included: a second object per connection cost
// 3-6% of Connection: close throughput (wrk -c50, alternating A/B against a build holding one).
export class Connection implements SocketEvents, BodyOwner, PumpSink {
  readonly socket: Socket;
  /** The sweeper's deadline (coarse clock, ms) for the current wait, or 0. */
  deadline = 0;
  /** Its index in the server's list of open connections (server.ts), -1 once removed. */
  slot = -1;
  /** The ServeInfo the server made for this connection (one per connection, not per request). */
  info: ServeInfo | null = null;
  #host: ConnectionHost;
  #defaultHost: string;
  /** The read buffer's memory when the socket reads into it (Socket.readsIntoBuffer), else null. */
  #wasmBuffer: ArrayBufferLike | null;
  #in = HEAD;
  #out = IDLE;
  #timer = T_HEADER;
  /** When the current head's --header-timeout runs out (a graceful stop may set an earlier deadline). */
  #headDeadline = 0;
  #pending: Uint8Array = EMPTY;
  #pendingLen = 0;
  #lastLen = 0;
  #looping = false;
  #paused = 0;
  #peerEnded = false;
  #requests = 0;
  /** The last write was not taken whole: wait for the socket's writable event. */
  #writeBlocked = false;
  // the request in progress
  #head: RequestHead | null = null;
  #req: PronghornRequest | null = null;
  #body: RequestBody | null = null;
  #remaining = 0;
  #decoder: ChunkedDecoder | null = null;
  #bodyTotal = 0;
  #skipped = 0;
  #continueOwed = false;
  // its response, as planned
  #status = 0;
  #keepAlive = false;
  #pump: StreamPump | null = null;
  /** The socket is gone or being destroyed: a stream body writes nothing more. */
  #outputCancelled = false;

  constructor(host: ConnectionHost, socket: Socket, listener: Listener, wasmBuffer: ArrayBufferLike) {
    this.#host = host;
    this.socket = socket;
    this.#defaultHost = host.defaultHost(listener);
    this.#wasmBuffer = socket.readsIntoBuffer ? wasmBuffer : null;
    this.#setTimer(T_HEADER, host.options.headerTimeoutMs);
  }

  get remote(): RemoteAddr {
    return this.socket.remote;
  }

  // ---- socket events (SocketEvents) ---------------------------------------------------------

  data(bytes: Uint8Array): void {
    const st = this.#in;
    if (st >= CLOSING) return;
    if (st === HEAD && this.#timer === T_IDLE) this.#setTimer(T_HEADER, this.#host.options.headerTimeoutMs);
    else if (st === BODY) this.#setTimer(T_READ, this.#host.options.timeoutMs);
    if (this.#pendingLen === 0) {
      const off = this.#consume(bytes, 0, bytes.length);
      if (off < bytes.length && this.#in < CLOSING) this.#holdUnread(bytes, off);
    } else {
      this.#holdUnread(bytes, 0);
      this.#consumePending();
    }
  }

  /** The socket's write buffer emptied (SocketEvents.writable): writes may continue. */
  writable(): void {
    if (!this.#writeBlocked) return;
    if (this.#timer === T_WRITE) this.#setTimer(T_NONE, 0);
    this.#writeBlocked = false;
    if (this.#pump !== null) this.#pump.writable();
    else if (this.#in === HEAD) this.#afterRequest();
    else if (this.#in === CLOSING) this.#setTimer(T_LINGER, LINGER_MS);
  }

  /** The peer ended its side (FIN). */
  end(): void {
    this.#peerEnded = true;
    if (this.#in === HEAD && this.#out === IDLE) {
      this.#endAndLinger();
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

  /** The socket is gone (SocketEvents.closed). */
  closed(): void {
    if (this.#in === CLOSED) return;
    this.#in = CLOSED;
    this.deadline = 0;
    // An Error (its stack) per connection cost more than the rest of a Connection: close
    // request; make one only when a request is still in flight to be told.
    if (this.#out !== IDLE || (this.#body !== null && !this.#body.ended)) {
      const gone = new Error("pronghorn: the client went away");
      if (this.#out !== IDLE) this.#req?.abort(gone);
      this.#body?.fail(gone);
      this.#cancelOutput(gone);
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
        if (this.#writeBlocked) break; // the client is not reading our answers: stop parsing
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
  #holdUnread(bytes: Uint8Array, off: number): void {
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
    if ((this.#in === HOLD || this.#writeBlocked) && need > MAX_HELD_BYTES) this.#pause(PAUSE_HELD);
  }

  // Returns the head length consumed, or 0 when the head is partial (the caller keeps the bytes)
  // or rejected (the connection is closing).
  #parseHead(buf: Uint8Array, off: number, end: number): number {
    const opts = this.#host.options;
    const parser = this.#host.parser;
    const len = end - off;
    const r = this.#wasmBuffer !== null && buf.buffer === this.#wasmBuffer
      ? parser.parse(buf.byteOffset + off, len, this.#lastLen)
      : parser.parseBytes(buf.subarray(off, end), this.#lastLen);
    if (r > 0) {
      this.#lastLen = 0;
      if (r > opts.maxHeaderSize) return this.#refuse(headTooLarge(buf.subarray(off, end), opts.maxHeaderSize));
      const head = readHead(parser, opts.maxBodySize);
      if (head instanceof Refusal) return this.#refuse(head);
      this.#dispatch(head);
      return r;
    }
    if (r === PARSE_PARTIAL) {
      if (len < opts.maxHeaderSize) {
        this.#lastLen = len;
        return 0;
      }
      return this.#refuse(headTooLarge(buf.subarray(off, end), opts.maxHeaderSize));
    }
    if (r === PARSE_TOO_MANY_HEADERS) return this.#fail(431, `more than ${MAX_HEADERS} header lines`);
    return this.#refuse(rejectStatus(buf.subarray(off, end)));
  }

  #bodyBytes(buf: Uint8Array, off: number, end: number): number {
    this.#continueOwed = false; // the client sent the body without waiting for 100
    if (this.#decoder === null) {
      const n = Math.min(this.#remaining, end - off);
      this.#remaining -= n;
      this.#bodyReceived(buf.slice(off, off + n));
      if (this.#remaining === 0 && this.#in === BODY) this.#bodyComplete();
      return n;
    }
    const input = buf.subarray(off, end);
    const r = this.#decoder.decode(input, this.#onChunk);
    if (this.#in !== BODY) return input.length; // #bodyReceived failed the request
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
    if (this.#in === BODY) this.#bodyReceived(payload);
  };

  // Body bytes (a copy the body may keep): to the app while it has the request, else skipped.
  #bodyReceived(chunk: Uint8Array): void {
    this.#bodyTotal += chunk.length;
    const max = this.#host.options.maxBodySize;
    if (max > 0 && this.#bodyTotal > max) {
      this.#bodyError(413, `request body over ${max} bytes`);
    } else if (this.#out === APP || this.#out === STREAM) {
      this.#body!.push(chunk);
    } else if ((this.#skipped += chunk.length) > MAX_SKIP_BYTES) {
      this.#endAndLinger(); // the response is out; this much unread body is not worth reading
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
    // A 1xx after the final head would land inside the response body: a response stream that
    // starts before the body is wanted sends it with the head instead (ResponsePlan.sendContinue).
    if (this.#continueOwed && this.#in === BODY && this.#out === APP) {
      this.#continueOwed = false;
      this.#write(CONTINUE_100);
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

  // ---- dispatch -------------------------------------------------------------------------------

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
            if (this.#req === req && this.#out === APP) this.#respond(value);
          },
          (error: unknown) => {
            if (this.#req === req && this.#out === APP) this.#appFailed(error);
          },
        );
        return;
      }
    } catch (error) {
      this.#appFailed(error);
      return;
    }
    this.#respond(res);
  }

  // ---- the response: plan it, write it --------------------------------------------------------

  // Reading the app's Response runs app code (header getters, a Proxy, a locked or disturbed
  // body stream): whatever throws before the head is written is the app failing, a 500; it must
  // never escape into the socket callback and take the worker down.
  #respond(res: unknown): void {
    if (this.#out !== APP) return;
    try {
      this.#sendResponse(res);
    } catch (error) {
      if (this.#out === APP) this.#appFailed(error);
      else this.#destroy(error);
    }
  }

  #sendResponse(res: unknown): void {
    const plan = planResponse(res, this.#head!, this.#facts(), this.#host.options.platformBody);
    if (plan instanceof Refusal) {
      this.#appFailed(new TypeError(plan.why));
      return;
    }
    this.#status = plan.status;
    this.#keepAlive = plan.keepAlive;
    if (plan.stream === null) {
      plan.unsent?.cancel().catch(() => {});
      this.#write(plan.body === null ? plan.head : [plan.head, plan.body]);
      this.#responseDone(plan.bodyBytes);
      return;
    }
    this.#continueOwed = false; // sent now, or not owed
    const pump = new StreamPump(this, plan.stream, plan.pumpMode, plan.length); // throws on a locked stream: before the head
    // From here a failure cuts the response: its head is on the wire.
    this.#out = STREAM;
    if (plan.sendContinue) this.#write(CONTINUE_100);
    this.#write(plan.head);
    this.#pump = pump;
    pump.start();
  }

  // What this connection knows that bears on keeping it open (response-plan.ts decides).
  #facts(): number {
    const opts = this.#host.options;
    let facts = 0;
    if (opts.keepaliveTimeoutMs > 0 && !this.#host.stopping && !this.#peerEnded &&
      (opts.maxKeepaliveReqs === 0 || this.#requests < opts.maxKeepaliveReqs)) facts |= CAN_REUSE;
    if (this.#in === BODY) {
      facts |= BODY_UNREAD;
      if (this.#decoder !== null || this.#remaining <= MAX_SKIP_BYTES) facts |= BODY_SKIPPABLE;
      if (this.#continueOwed) facts |= CONTINUE_OWED;
    }
    return facts;
  }

  /** The app threw, or answered with something that cannot be sent, before any of it went out:
   *  log it and answer 500 instead (with the error in the body in development). */
  #appFailed(error: unknown): void {
    this.#host.log(`pronghorn: the fetch handler failed for ${requestLine(this.#head)}: ${describe(error)}`);
    const text = this.#host.options.development ? `500 ${describe(error)}\n` : "500 Internal Server Error\n";
    this.#respond(new FastResponse(text, { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } }));
  }

  /** Every byte this connection sends goes through here. A write the socket does not take
   *  whole stops head parsing and arms the write timeout until the writable event. */
  #write(data: string | Uint8Array | readonly (string | Uint8Array)[]): boolean {
    const ok = typeof data === "string" || data instanceof Uint8Array ? this.socket.write(data)
      : data.length === 1 ? this.socket.write(data[0]!) : this.socket.writev(data);
    if (!ok) {
      this.#writeBlocked = true;
      this.#setTimer(T_WRITE, this.#host.options.timeoutMs);
    }
    return ok;
  }

  /** The response is whole on the wire (or queued): log it, then on to the next request or close. */
  #responseDone(bodyBytes: number): void {
    const log = this.#host.options.accessLog;
    if (log !== undefined) log(accessLine(this.#host.options.accessLogFormat ?? "combined", this.#head!, this.socket.remote, this.#status, bodyBytes));
    this.#out = IDLE;
    this.#req = null;
    if (this.#in === CLOSED) return;
    if (!this.#keepAlive) {
      this.#endAndLinger();
    } else if (this.#in === BODY) {
      this.#body!.drop(); // wait for the rest of the body, dropping it (#bodyReceived counts the skip)
    } else if (this.#in === HOLD) {
      this.#afterRequest();
    }
  }

  // ---- PumpSink: the stream body of the response in progress ----------------------------------

  pumpWrite(chunks: readonly (Uint8Array | string)[]): boolean {
    if (this.#outputCancelled) return true;
    return this.#write(chunks);
  }

  pumpDone(bodyBytes: number): void {
    this.#pump = null;
    this.#responseDone(bodyBytes);
  }

  pumpFailed(error: unknown, bodyBytes: number): void {
    this.#pump = null;
    this.#host.log(`pronghorn: the response body stream failed after ${bodyBytes} bytes for ${requestLine(this.#head)}: ${describe(error)}`);
    this.#destroy(error); // the client must not take a truncated body for a whole one
  }

  /** The socket is gone: stop a stream body in progress and tell the app's stream why. */
  #cancelOutput(reason: Error): void {
    this.#outputCancelled = true;
    this.#pump?.cancel(reason);
  }

  // Both the body and the response are done: back to HEAD for the next request.
  #afterRequest(): void {
    this.#in = HEAD;
    this.#head = null;
    this.#body = null;
    if (this.#peerEnded) {
      this.#endAndLinger();
      return;
    }
    if (this.#writeBlocked) return; // writable() brings us back here
    this.#setTimer(this.#pendingLen > 0 ? T_HEADER : T_IDLE,
      this.#pendingLen > 0 ? this.#host.options.headerTimeoutMs : this.#host.options.keepaliveTimeoutMs);
    // A stop that began while this response was out (keep-alive was decided with its head) gives
    // the connection STOP_IDLE_MS for a next request, not the whole --keepalive-timeout.
    if (this.#host.stopping) this.stopGracefully();
    this.#consumePending();
  }

  /** 1xx (e.g. 103 Early Hints), written at once while the app has the request (else it throws);
   *  nothing is sent to an HTTP/1.0 client or on a closing connection. */
  informational(status: number, headers?: HeadersInit): void {
    if (!Number.isInteger(status) || status < 100 || status > 199 || status === 101) {
      throw new RangeError(`pronghorn: informational() takes a 1xx status other than 101, got ${status}`);
    }
    if (this.#out !== APP) throw new Error("pronghorn: informational() after the final response started");
    if (this.#head?.minor === 1 && this.#in < CLOSING) this.#write(informationalHead(status, headers));
  }

  // ---- closing --------------------------------------------------------------------------------

  #refuse(r: Refusal): number {
    return this.#fail(r.status, r.why);
  }

  /** Send a status and a short reason, log the peer and the cause, and close. Returns 0. */
  #fail(status: number, why: string, error?: unknown): number {
    this.#host.log(`pronghorn: ${status}: ${why} from ${peerOf(this.remote)}`);
    if (this.#out !== IDLE) {
      this.#req?.abort(error ?? new Error(`pronghorn: ${why}`));
      this.#body?.fail(error ?? new Error(`pronghorn: ${why}`));
    }
    if (this.#out === STREAM || this.#in >= CLOSING) {
      this.#destroy(error);
      return 0;
    }
    this.#out = IDLE;
    this.#write(errorResponse(status));
    this.#endAndLinger();
    return 0;
  }

  // FIN after what is queued; read and drop until the peer closes too, or LINGER_MS passes
  // (closing with unread input would send RST and could destroy the response in flight).
  #endAndLinger(): void {
    if (this.#in >= CLOSING) return;
    this.#in = CLOSING;
    this.#pendingLen = 0;
    this.#pending = EMPTY;
    this.#head = null; // a closing connection lingers: let the request's garbage go young
    // The decoder may be mid-decode (we can get here from its onData): closed() disposes it.
    this.#body?.drop();
    if (this.#paused !== 0) {
      this.#paused = 0;
      this.socket.resume();
    }
    this.socket.end();
    if (this.#writeBlocked) this.#setTimer(T_WRITE, this.#host.options.timeoutMs);
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
      this.#cancelOutput(error instanceof Error ? error : new Error(String(error)));
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
      const h = this.#head;
      this.#host.log(`pronghorn: ${why} from ${peerOf(this.remote)}${h === null ? "" : ` for ${h.method} ${h.target.slice(0, 200)}`}; its response was cut`);
    }
    this.#destroy(error);
  }

  /** Graceful stop: an idle connection closes if it stays silent for STOP_IDLE_MS; a busy one,
   *  or one whose next request comes in time, closes after its response (response-plan.ts
   *  keepAliveAfter()), or gets STOP_IDLE_MS after it when its keep-alive was decided earlier. */
  stopGracefully(): void {
    if (this.#in !== HEAD || this.#out !== IDLE || this.#pendingLen !== 0) return;
    const soon = this.#host.deadline(STOP_IDLE_MS);
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
        // stopGracefully() cut the wait short, and the first bytes came since: the head gets its full time
        this.#timer = T_HEADER;
        this.deadline = this.#headDeadline;
      } else this.#fail(408, `request head not complete within ${opts.headerTimeoutMs} ms`);
    } else if (kind === T_READ && this.#out === APP) {
      this.#fail(408, `no request body bytes for ${opts.timeoutMs} ms`);
    } else if (kind === T_READ && this.#out === STREAM) {
      this.#cut(`408: no request body bytes for ${opts.timeoutMs} ms`, new Error(`pronghorn: no request body bytes for ${opts.timeoutMs} ms`));
    } else if (kind === T_IDLE) {
      this.#endAndLinger();
    } else {
      this.#destroy(kind === T_WRITE ? new Error(`pronghorn: the client read nothing for ${opts.timeoutMs} ms`) : undefined);
    }
  }
}

const EMPTY = new Uint8Array(0);

function peerOf(peer: RemoteAddr): string {
  return peer.transport === "unix" ? "a unix socket peer" : `${peer.hostname}:${peer.port}`;
}

function requestLine(h: RequestHead | null): string {
  return h === null ? "(no request)" : `${h.method} ${h.target.slice(0, 200)}`;
}

/** An app's error for the log; anything can be thrown, even an object String() throws on. */
function describe(error: unknown): string {
  try {
    return (error as Error)?.stack ?? String(error);
  } catch {
    return "a value that cannot be turned into a string";
  }
}
