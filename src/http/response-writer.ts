/**
 * The output half of a Connection: puts one response at a time on its socket. Reads the app's
 * Response (app code, which may throw: the owner's catch turns that into a 500 while no head is
 * out), picks the framing (Content-Length for strings, bytes, Blobs and stream bodies with a
 * length; chunked for other streams to HTTP/1.1; close-delimited to HTTP/1.0), writes a whole
 * response in one socket call or feeds a StreamPump, and tracks whether the socket took
 * everything. It never decides keep-alive nor touches the input side: Connection, which extends
 * it, does, through the abstract methods below.
 */
import type { Socket } from "../runtime/runtime.js";
import type { RequestHead } from "./framing.js";
import {
  buildHead, latin1Bytes, PUMP_CHUNKED, PUMP_LENGTH, PUMP_RAW, readResponse, responseError, StreamPump,
  utf8Bytes, utf8Length, type PumpSink, type ResponseParts,
} from "./response.js";
import { NativeResponse } from "./fast-response.js";
import { appErrorResponse, informationalHead } from "./errors.js";
import { accessLine } from "./access-log.js";
import type { ConnectionHost } from "./server.js";

export const CONTINUE_100 = "HTTP/1.1 100 Continue\r\n\r\n";

// Connection extends this class rather than holding one: a second object per connection cost
// 3-6% of Connection: close throughput (wrk -c50, alternating A/B against a build holding it).
export abstract class ResponseWriter implements PumpSink {
  /** Whether the connection stays open after this response, decided as its head is built. */
  protected abstract keepAliveAfter(p: ResponseParts, lengthKnown: boolean): boolean;
  /** A stream body starts: returns whether 100 Continue is owed (it is then no longer). */
  protected abstract takeContinue(): boolean;
  /** The head of a stream response goes out next: from here a failure cuts the response. */
  protected abstract streaming(): void;
  /** write() returned false: the socket is blocked until drain. */
  protected abstract writeBlocked(): void;
  /** The response is whole on the wire (or queued), and logged; keepAlive as decided for it. */
  protected abstract responseDone(keepAlive: boolean): void;
  /** Send this Response instead (the 500 for an app that failed), if the app still has the request. */
  protected abstract respond(res: unknown): void;
  /** A stream body failed after its head went out (logged): the response must be cut. */
  protected abstract streamFailed(error: unknown): void;

  /** The last write was not taken whole: wait for drain. */
  protected blocked = false;
  #socket: Socket;
  #host: ConnectionHost;
  #head: RequestHead | null = null;
  #pump: StreamPump | null = null;
  #closed = false;
  #status = 0;
  #keepAlive = false;

  constructor(socket: Socket, host: ConnectionHost) {
    this.#socket = socket;
    this.#host = host;
  }

  protected send(res: unknown, head: RequestHead): void {
    this.#head = head;
    if (!(res instanceof NativeResponse)) {
      const what = res === null ? "null" : typeof res === "object" ? (res.constructor?.name ?? "an object") : typeof res;
      this.appFailed(new TypeError(`the fetch handler returned ${what}, not a Response`), head);
      return;
    }
    const p = readResponse(res);
    if (p === null) {
      this.appFailed(new TypeError(`the response cannot be sent: ${responseError}`), head);
      return;
    }
    const socket = this.#socket;
    const status = p.status;
    this.#status = status;
    const noBody = head.method === "HEAD" || status === 204 || status === 304 || status < 200;
    const body = p.body;
    if (typeof body === "string" || body instanceof Uint8Array || body === null) {
      const bytes = typeof body === "string" ? (body.length < 65536 ? null : utf8Bytes(body)) : body;
      const len = body === null ? 0 : bytes !== null ? bytes.length : utf8Length(body as string);
      const framing = status === 204 || status === 304 || status < 200 ? "" : `content-length: ${len}\r\n`;
      const text = this.#headFor(p, head.minor, framing, true);
      let ok: boolean;
      if (noBody || len === 0) ok = socket.write(p.ascii ? text : latin1Bytes(text));
      else if (p.ascii && bytes === null) ok = socket.write(text + (body as string));
      else ok = socket.writev([p.ascii ? text : latin1Bytes(text), bytes ?? utf8Bytes(body as string)]);
      this.#wrote(ok);
      this.#done(noBody ? 0 : len);
      return;
    }
    const stream = body instanceof Blob ? body.stream() : body;
    const length = body instanceof Blob ? body.size : p.length;
    if (noBody) {
      stream.cancel().catch(() => {});
      const framing = length >= 0 && status !== 204 && status !== 304 ? `content-length: ${length}\r\n` : "";
      const text = this.#headFor(p, head.minor, framing, true);
      this.#wrote(socket.write(p.ascii ? text : latin1Bytes(text)));
      this.#done(0);
      return;
    }
    const mode = length >= 0 ? PUMP_LENGTH : head.minor === 1 ? PUMP_CHUNKED : PUMP_RAW;
    const framing = mode === PUMP_LENGTH ? `content-length: ${length}\r\n`
      : mode === PUMP_CHUNKED ? "transfer-encoding: chunked\r\n" : "";
    // The stream may read the request body (an echo), and the client may be waiting for
    // 100 Continue to send it: that must go out now, before the final head (RFC 9110 §15.2).
    const sendContinue = this.takeContinue();
    const pump = new StreamPump(this, stream, mode, length); // throws on a locked stream: before the head
    const text = this.#headFor(p, head.minor, framing, mode !== PUMP_RAW);
    this.streaming();
    if (sendContinue) socket.write(CONTINUE_100);
    this.#wrote(socket.write(p.ascii ? text : latin1Bytes(text)));
    this.#pump = pump;
    pump.start();
  }

  /** The app threw, or answered with something that cannot be sent, before any of it went out:
   *  log it and answer 500 instead (with the error in the body in development). */
  protected appFailed(error: unknown, head: RequestHead): void {
    this.#host.log(`pronghorn: the fetch handler failed for ${requestLine(head)}: ${describe(error)}`);
    const text = this.#host.options.development ? `500 ${describe(error)}\n` : undefined;
    this.respond(appErrorResponse(500, text));
  }

  #headFor(p: ResponseParts, minor: number, framing: string, lengthKnown: boolean): string {
    const keepAlive = this.#keepAlive = this.keepAliveAfter(p, lengthKnown);
    const connection = keepAlive ? (minor === 0 ? "connection: keep-alive\r\n" : "") : "connection: close\r\n";
    return buildHead(p, framing, connection);
  }

  #wrote(ok: boolean): void {
    if (ok) return;
    this.blocked = true;
    this.writeBlocked();
  }

  /** A 1xx head (e.g. 103 Early Hints), written at once while `appHasRequest` (else it throws), unless
   *  the client cannot take one (`open` false: HTTP/1.0, or the connection is closing). */
  protected writeInformational(status: number, headers: HeadersInit | undefined, appHasRequest: boolean, open: boolean): void {
    if (!Number.isInteger(status) || status < 100 || status > 199 || status === 101) {
      throw new RangeError(`pronghorn: informational() takes a 1xx status other than 101, got ${status}`);
    }
    if (!appHasRequest) throw new Error("pronghorn: informational() after the final response started");
    if (open) this.#socket.write(informationalHead(status, headers));
  }

  #done(bodyBytes: number): void {
    const log = this.#host.options.accessLog;
    if (log !== undefined) log(accessLine(this.#head!, this.#socket.remote, this.#status, bodyBytes));
    this.#head = null; // a connection closing after this lingers: let the request's garbage go young
    this.responseDone(this.#keepAlive);
  }

  /** The socket drained: returns whether a stream body took it. */
  protected drained(): boolean {
    this.blocked = false;
    if (this.#pump === null) return false;
    this.#pump.drained();
    return true;
  }

  /** The socket is gone: stop a stream body in progress and tell the app's stream why. */
  protected cancel(reason: Error): void {
    this.#closed = true;
    this.#pump?.cancel(reason);
  }

  pumpWrite(chunks: readonly (Uint8Array | string)[]): boolean {
    if (this.#closed) return true;
    const ok = chunks.length === 1 ? this.#socket.write(chunks[0]!) : this.#socket.writev(chunks);
    this.#wrote(ok);
    return ok;
  }

  pumpDone(bodyBytes: number): void {
    this.#pump = null;
    this.#done(bodyBytes);
  }

  pumpFailed(error: unknown, bodyBytes: number): void {
    this.#pump = null;
    this.#host.log(`pronghorn: the response body stream failed after ${bodyBytes} bytes for ${requestLine(this.#head)}: ${describe(error)}`);
    this.streamFailed(error);
  }
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
