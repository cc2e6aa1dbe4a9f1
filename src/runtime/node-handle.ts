/**
 * Node's accepted connections driven through their libuv stream handle (TCPWrap, PipeWrap)
 * directly, with no `net.Socket` around it: reads land in the caller's buffer (useUserBuffer), a
 * write is one call into the handle, FIN is a ShutdownWrap, and the close is the handle's. This
 * is what `net.Socket` does underneath (lib/net.js, lib/internal/stream_base_commons.js) without
 * its stream state machine, timers, nextTicks and per-write objects: on Node 26 that machinery
 * was most of a request's JavaScript outside pronghorn (bench/profile.md).
 *
 * Private API: `process.binding('stream_wrap')` (WriteWrap, ShutdownWrap and the shared
 * `streamBaseState` array that carries a read's byte count and whether a write went async) and
 * the handle methods of src/stream_base.cc / stream_wrap.cc / tcp_wrap.cc. Measured on Node
 * 20.20, 24.22 and 26.12 (process.binding is deprecated, DEP0111, printed only under
 * --pending-deprecation). `directStreams()` checks for every piece it needs and returns null when
 * one is missing; node-net.ts then builds a `net.Socket` as before, which is also what
 * PRONGHORN_NO_DIRECT_HANDLE=1 forces (the test runner's Node 24 pass runs the whole suite so).
 */
import type { RemoteAddr, Socket, SocketEvents } from "./runtime.js";

/** The handle methods used here; every one is checked before a handle is driven. */
interface StreamHandle {
  onread: (this: StreamHandle) => void;
  useUserBuffer(buffer: Uint8Array): void;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: WriteReq, data: Uint8Array): number;
  writeUtf8String(req: WriteReq, data: string): number;
  writev(req: WriteReq, chunks: unknown[], allBuffers: boolean): number;
  shutdown(req: object): number;
  close(callback: () => void): void;
  /** TCP only. */
  reset?(callback: () => void): number;
  setNoDelay?(on: boolean): number;
  getpeername?(out: { address?: string; port?: number }): number;
  /** Ours: the socket this handle belongs to (for the shared read callback). */
  pronghorn?: HandleSocket;
}

interface WriteReq {
  oncomplete: (this: WriteReq, status: number) => void;
  socket: HandleSocket | null;
  /** What libuv still reads from after the call returned (async writes only). */
  data: unknown;
}

interface ShutdownReq {
  oncomplete: (this: ShutdownReq, status: number) => void;
  socket: HandleSocket;
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteReq;
  ShutdownWrap: new () => ShutdownReq;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
}

const UV_EOF = -4095;
const UV_ENOTCONN = -107;

export interface DirectStreams {
  /** Whether `handle` has every method this file calls. */
  accepts(handle: unknown): boolean;
  /** Start driving `handle`; `readBuffer` receives every read. */
  wrap(handle: unknown, unix: boolean, readBuffer: Uint8Array): HandleSocket;
}

let binding: StreamWrapBinding | null | undefined;

function streamWrap(): StreamWrapBinding | null {
  if (binding !== undefined) return binding;
  binding = null;
  try {
    const b = (process as unknown as { binding(name: string): Partial<StreamWrapBinding> }).binding("stream_wrap");
    if (typeof b.WriteWrap === "function" && typeof b.ShutdownWrap === "function" &&
        b.streamBaseState instanceof Int32Array && typeof b.kReadBytesOrError === "number" &&
        typeof b.kLastWriteWasAsync === "number") {
      binding = b as StreamWrapBinding;
    }
  } catch {
    // No process.binding (or --throw-deprecation): net.Socket it is.
  }
  return binding;
}

const METHODS = ["useUserBuffer", "readStart", "readStop", "writeBuffer", "writeUtf8String", "writev", "shutdown", "close"] as const;

/** The direct path, or null when this runtime lacks any piece of it. */
export function directStreams(): DirectStreams | null {
  const b = streamWrap();
  if (b === null) return null;
  return {
    accepts: (handle) => handle !== null && typeof handle === "object" &&
      METHODS.every((m) => typeof (handle as Record<string, unknown>)[m] === "function"),
    wrap: (handle, unix, readBuffer) => new HandleSocket(handle as StreamHandle, unix, readBuffer, b),
  };
}

const NOOP_EVENTS: SocketEvents = { data() {}, writable() {}, end() {}, closed() {} };

/** A write request no async write holds, shared by every socket: a write the kernel takes whole
 *  never touches it (stream_base.cc tries the write first and binds the request only to what is
 *  left), so it serves write after write until one goes async and keeps it. */
let spare: WriteReq | null = null;

// One read callback for every handle: `this` is the handle (C++ calls its onread).
function onRead(this: StreamHandle): void {
  this.pronghorn?.read();
}

// One completion callback for every write request: `this` is the request.
function onWriteDone(this: WriteReq, status: number): void {
  const socket = this.socket;
  this.socket = null;
  this.data = null;
  socket?.writeDone(status);
}

function onShutdownDone(this: ShutdownReq, status: number): void {
  this.socket.shutdownDone(status);
}

export class HandleSocket implements Socket {
  events: SocketEvents = NOOP_EVENTS;
  readonly readsIntoBuffer = true;
  #h: StreamHandle;
  #unix: boolean;
  #buf: Uint8Array;
  #b: StreamWrapBinding;
  #remote: RemoteAddr | null = null;
  /** Async writes libuv still holds. */
  #queued = 0;
  #wrote = false;
  /** TCP_NODELAY still to set (tcp only; see #before). */
  #nagle: boolean;
  #reading = false;
  #eof = false;
  /** end() was called: a FIN is queued behind the writes. */
  #ending = false;
  #shutDown = false;
  #closed = false;

  constructor(handle: StreamHandle, unix: boolean, readBuffer: Uint8Array, b: StreamWrapBinding) {
    this.#h = handle;
    this.#unix = unix;
    this.#nagle = !unix;
    this.#buf = readBuffer;
    this.#b = b;
    handle.pronghorn = this;
    handle.onread = onRead;
    handle.useUserBuffer(readBuffer);
  }

  /** Start reading: after `events` is set. */
  start(): void {
    this.resume();
  }

  /** A read finished (called from the handle's onread). */
  read(): void {
    const n = this.#b.streamBaseState[this.#b.kReadBytesOrError]!;
    if (n > 0) {
      if (!this.#closed) this.events.data(this.#buf.subarray(0, n));
    } else if (n === UV_EOF) {
      this.#eof = true;
      this.#reading = false;
      if (this.#closed) return;
      this.events.end();
      // Both sides done (our FIN went out first): nothing more can happen on this connection.
      if (this.#shutDown) this.destroy();
    } else if (n < 0) {
      this.destroy(); // ECONNRESET and the like: the connection is gone
    }
  }

  get remote(): RemoteAddr {
    if (this.#remote !== null) return this.#remote;
    if (this.#unix) return (this.#remote = { transport: "unix", hostname: "", port: 0 });
    const out: { address?: string; port?: number } = {};
    if (!this.#closed) this.#h.getpeername?.(out);
    return (this.#remote = { transport: "tcp", hostname: out.address ?? "", port: out.port ?? 0 });
  }

  // TCP_NODELAY goes on before the second write, not at accept (as in node-net.ts): Nagle holds a
  // segment back only while earlier data is unacknowledged, which the first write never has.
  #before(): WriteReq {
    if (this.#nagle && this.#wrote) {
      this.#nagle = false;
      this.#h.setNoDelay?.(true);
    }
    this.#wrote = true;
    let req = spare;
    if (req === null) {
      req = new this.#b.WriteWrap();
      req.oncomplete = onWriteDone;
      req.socket = null;
      req.data = null;
      spare = req;
    }
    return req;
  }

  /** After a write call: false (wait for writable) when libuv kept part of it. */
  #after(req: WriteReq, err: number, data: unknown): boolean {
    if (err !== 0) {
      spare = null; // a failed async attempt may have bound and released it: start afresh
      this.destroy(); // EPIPE, ECONNRESET: the peer is gone, and 'closed' follows
      return false;
    }
    if (this.#b.streamBaseState[this.#b.kLastWriteWasAsync] === 0) return true;
    req.socket = this;
    req.data = data; // libuv reads from it until the request completes
    spare = null;
    this.#queued++;
    return false;
  }

  // Once closed, a write waits for a writable event that never comes: 'closed' follows (on the
  // next turn of the loop), and until then a stream pump must not spin on writes that go nowhere.
  write(data: Uint8Array | string): boolean {
    if (this.#closed) return false;
    if (this.#ending) return true;
    const req = this.#before();
    const err = typeof data === "string" ? this.#h.writeUtf8String(req, data) : this.#h.writeBuffer(req, data);
    return this.#after(req, err, data);
  }

  writev(chunks: readonly (Uint8Array | string)[]): boolean {
    if (this.#closed) return false;
    if (this.#ending) return true;
    const req = this.#before();
    let allBuffers = true;
    for (let i = 0; i < chunks.length; i++) if (typeof chunks[i] === "string") allBuffers = false;
    let list: unknown[];
    if (allBuffers) list = chunks as Uint8Array[];
    else {
      // stream_base.cc's Writev without allBuffers takes (chunk, encoding) pairs.
      list = new Array(chunks.length * 2);
      for (let i = 0; i < chunks.length; i++) {
        list[i * 2] = chunks[i];
        list[i * 2 + 1] = "utf8";
      }
    }
    const err = this.#h.writev(req, list, allBuffers);
    return this.#after(req, err, list);
  }

  /** An async write completed (or was cancelled by the close). */
  writeDone(status: number): void {
    this.#queued--;
    if (this.#closed) return;
    if (status < 0) {
      this.destroy();
      return;
    }
    if (this.#queued === 0 && !this.#ending) this.events.writable();
  }

  pause(): void {
    if (!this.#reading) return;
    this.#reading = false;
    this.#h.readStop();
  }

  resume(): void {
    if (this.#reading || this.#eof || this.#closed) return;
    this.#reading = true;
    if (this.#h.readStart() !== 0) this.destroy();
  }

  end(): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    const req = new this.#b.ShutdownWrap();
    req.oncomplete = onShutdownDone;
    req.socket = this;
    // libuv sends the FIN once the queued writes are out; 1 means it finished at once.
    const err = this.#h.shutdown(req);
    if (err === 1 || err === UV_ENOTCONN) this.shutdownDone(0);
    else if (err !== 0) this.destroy();
  }

  /** Our FIN went out (or failed). */
  shutdownDone(status: number): void {
    if (this.#closed) return;
    this.#shutDown = true;
    // The peer closed first, or the FIN failed: close. Otherwise keep reading until its FIN
    // (http/ lingers, dropping what comes, and destroys after its linger time).
    if (this.#eof || status < 0) this.destroy();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reading = false;
    this.#h.close(() => this.#afterClose());
  }

  // RST instead of FIN, so the peer sees an abort. Unix sockets have none, and libuv refuses it
  // once a FIN is queued (uv_tcp_close_reset: EINVAL): both close as usual.
  reset(): void {
    if (this.#closed) return;
    if (this.#unix || this.#ending || typeof this.#h.reset !== "function") {
      this.destroy();
      return;
    }
    this.#closed = true;
    this.#reading = false;
    if (this.#h.reset(() => this.#afterClose()) !== 0) {
      // setsockopt(SO_LINGER) failed, which Linux does not do on a TCP socket; the wrap may
      // now refuse close() too (tcp_wrap.cc marks it closing first), so 'closed' comes anyway.
      this.#h.close(() => this.#afterClose());
      setImmediate(() => this.#afterClose());
    }
  }

  #afterClose(): void {
    if (this.#h.pronghorn === undefined) return; // closed already (reset's fallback calls twice)
    // (onread stays: its setter takes functions only, and onRead ignores a handle with no socket.)
    this.#h.pronghorn = undefined;
    const events = this.events;
    this.events = NOOP_EVENTS;
    events.closed();
  }
}
