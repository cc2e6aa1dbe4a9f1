/**
 * Bun's worker-side sockets: accept on a listening fd the supervisor handed over with
 * `Bun.listen({fd, allowHalfOpen: true})` (the fastest of the measured ways: bench/bun-sockets.md)
 * and adapt each connection to the Socket contract of runtime.ts.
 *
 * What the adapter adds to Bun's socket, which buffers nothing: `write()` is one send(2) that
 * returns the bytes the kernel took, so the rest is kept here and sent in order on `drain`, and
 * write() returns false while anything is kept. Bun's `end()` closes at once and would drop what
 * is kept, so end() first flushes, then half-closes (FIN, reads go on, as Node's end() with
 * allowHalfOpen does: http/ lingers to read and drop until the peer closes too). There is no
 * writev: pieces are joined into one buffer (one copy) when small, else sent one by one. Reads
 * arrive as a fresh exact-size buffer per read (Bun has no way to read into caller memory); each
 * is copied into `readBuffer` (wasm memory), the one copy Bun allows, and http/ parses it there.
 * Copying here rather than in http/ keeps http/ from slicing Bun's chunk: on JSC `subarray()` of
 * a buffer that has no ArrayBuffer object yet allocates one and copies the bytes (bench/profile.md).
 * PRONGHORN_NO_ONREAD=1 hands http/ Bun's own chunks instead.
 */
import type { BunApi, BunSocket, BunSocketHandlers } from "./bun-api.js";
import type { HandedListener, Listener, ListenOptions, RemoteAddr, Socket, SocketEvents } from "./runtime.js";
import { setBacklog, sockName } from "./bun-libc.js";

const Bun = (globalThis as unknown as { Bun: BunApi }).Bun;

type Accept = (socket: Socket, listener: Listener) => SocketEvents;

const NOOP_EVENTS: SocketEvents = { data() {}, writable() {}, end() {}, closed() {} };

/** Pieces of a writev() up to this many bytes in total are joined into one send(2). */
const JOIN_LIMIT = 64 * 1024;

const OPEN = 0;
/** end() was called while bytes were kept: FIN once they are sent. */
const ENDING = 1;
/** FIN sent (or the socket closed by us): nothing more goes out. */
const ENDED = 2;

function bytesOf(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? Buffer.from(data, "utf8") : data;
}

class BunConnection implements Socket {
  events: SocketEvents = NOOP_EVENTS;
  /** Reads are copied into ListenOptions.readBuffer (see the file comment). */
  readonly readsIntoBuffer: boolean;
  readonly #s: BunSocket<BunConnection>;
  readonly #unix: boolean;
  #remote: RemoteAddr | null = null;
  /** Bytes the kernel has not taken yet, oldest first; null when none. */
  #kept: Uint8Array[] | null = null;
  #state = OPEN;
  #peerEnded = false;
  #closed = false;

  constructor(s: BunSocket<BunConnection>, unix: boolean, readsIntoBuffer: boolean) {
    this.#s = s;
    this.#unix = unix;
    this.readsIntoBuffer = readsIntoBuffer;
  }

  get remote(): RemoteAddr {
    if (this.#remote !== null) return this.#remote;
    const s = this.#s;
    this.#remote = this.#unix
      ? { transport: "unix", hostname: "", port: 0 }
      : { transport: "tcp", hostname: s.remoteAddress ?? "", port: s.remotePort ?? 0 };
    return this.#remote;
  }

  write(data: Uint8Array | string): boolean {
    if (this.#state !== OPEN || this.#closed) return false;
    if (this.#kept !== null) {
      this.#kept.push(bytesOf(data));
      return false;
    }
    return this.#send(data);
  }

  /** One send(2) of `data`; keeps what the kernel did not take. */
  #send(data: Uint8Array | string): boolean {
    const n = this.#s.write(data);
    if (typeof data === "string") {
      // The string went out as UTF-8, at least one byte per UTF-16 unit: fewer bytes than units
      // is always a partial write, and as many is whole only for ASCII.
      if (n >= data.length && n >= Buffer.byteLength(data, "utf8")) return true;
      this.#kept = [Buffer.from(data, "utf8").subarray(Math.max(n, 0))];
      return false;
    }
    if (n >= data.length) return true;
    this.#kept = [n > 0 ? data.subarray(n) : data];
    return false;
  }

  writev(chunks: readonly (Uint8Array | string)[]): boolean {
    if (chunks.length === 1) return this.write(chunks[0]!);
    if (this.#state !== OPEN || this.#closed) return false;
    let total = 0;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      total += typeof c === "string" ? Buffer.byteLength(c, "utf8") : c.length;
    }
    if (this.#kept === null && total <= JOIN_LIMIT) {
      const joined = Buffer.allocUnsafe(total);
      let at = 0;
      for (let i = 0; i < chunks.length; i++) {
        const c = chunks[i]!;
        if (typeof c === "string") at += joined.write(c, at, "utf8");
        else {
          joined.set(c, at);
          at += c.length;
        }
      }
      return this.#send(joined);
    }
    let ok = true;
    for (let i = 0; i < chunks.length; i++) ok = this.write(chunks[i]!);
    return ok;
  }

  pause(): void {
    if (!this.#closed) this.#s.pause();
  }

  resume(): void {
    if (!this.#closed) this.#s.resume();
  }

  end(): void {
    if (this.#state !== OPEN || this.#closed) return;
    if (this.#kept !== null) this.#state = ENDING; // onDrain() finishes it
    else this.#fin();
  }

  #fin(): void {
    this.#state = ENDED;
    // Both sides done: close. Otherwise FIN only, and read on until the peer's FIN, on which
    // Bun closes the socket (and calls close()). In Bun 1.4.5 shutdown() with no argument is
    // shutdown(SHUT_WR); shutdown(true), documented as the write-side half-close, sends no FIN.
    if (this.#peerEnded) this.#s.end();
    else this.#s.shutdown();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#kept = null;
    this.#state = ENDED;
    this.#s.end();
  }

  reset(): void {
    if (this.#closed) return;
    // terminate() is SO_LINGER 0 + close(2): RST. Unix sockets have no RST; after our FIN a
    // reset would tell the peer nothing more (as on Node, which refuses it then).
    if (this.#unix || this.#state === ENDED) {
      this.destroy();
      return;
    }
    this.#kept = null;
    this.#state = ENDED;
    this.#s.terminate();
  }

  // ---- from Bun's handlers ------------------------------------------------------------------

  /** The kernel can take more: send what is kept, in order, joined into one send(2). */
  onDrain(): void {
    const kept = this.#kept;
    if (kept === null || this.#closed) return;
    this.#kept = null;
    const data = kept.length === 1 ? kept[0]! : Buffer.concat(kept);
    const n = this.#s.write(data);
    if (n < data.length) {
      this.#kept = [n > 0 ? data.subarray(n) : data];
      return;
    }
    if (this.#state === ENDING) this.#fin();
    else this.events.writable();
  }

  onEnd(): void {
    this.#peerEnded = true;
    this.events.end();
  }

  /** Bun closed the socket (our end()/destroy()/reset() included: it calls this from inside
   *  them). closed() reaches http/ from a microtask, so it never runs inside http/'s own call. */
  onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#kept = null;
    const events = this.events;
    this.events = NOOP_EVENTS;
    queueMicrotask(() => events.closed());
  }
}

// An exception thrown by http/ inside a handler is handed to `error` by Bun; thrown again from
// a microtask it reaches the process's uncaught-exception handling, as it would on Node. A
// socket's own error (a syscall failed: ECONNRESET, EPIPE) is followed by close(), which is
// what http/ acts on.
function rethrow(_s: unknown, error: Error): void {
  const e = error as { syscall?: unknown; errno?: unknown };
  if (typeof e.syscall === "string" || typeof e.errno === "number") return;
  queueMicrotask(() => {
    throw error;
  });
}

function handlers(accept: Accept, listener: () => Listener, unix: boolean, readBuffer: Uint8Array | null): BunSocketHandlers<BunConnection> {
  // The view handed to http/ for a read of n bytes: one per length, kept while reads come in
  // that size (http/ holds a view only during the call, as on Node).
  let lastLength = -1;
  let lastView: Uint8Array | null = null;
  const viewOf = (n: number): Uint8Array => {
    if (n !== lastLength) {
      lastView = readBuffer!.subarray(0, n);
      lastLength = n;
    }
    return lastView!;
  };
  const intoBuffer = (s: BunSocket<BunConnection>, chunk: Uint8Array): void => {
    const conn = s.data;
    const max = readBuffer!.length;
    if (chunk.length <= max) {
      readBuffer!.set(chunk);
      conn.events.data(viewOf(chunk.length));
      return;
    }
    for (let at = 0; at < chunk.length; at += max) {
      const n = Math.min(max, chunk.length - at);
      readBuffer!.set(chunk.subarray(at, at + n));
      conn.events.data(viewOf(n));
    }
  };
  return {
    open(s) {
      const conn = new BunConnection(s, unix, readBuffer !== null);
      s.data = conn;
      conn.events = accept(conn, listener());
    },
    data: readBuffer === null ? (s, chunk) => s.data.events.data(chunk) : intoBuffer,
    drain: (s) => s.data.onDrain(),
    end: (s) => s.data.onEnd(),
    close: (s) => s.data?.onClose(),
    error: rethrow,
  };
}

/** Accept on a listening fd inherited from the supervisor. */
export async function bunListen(handed: HandedListener, options: ListenOptions, accept: Accept): Promise<Listener> {
  if (handed.via.kind !== "fd") throw new Error(`cannot adopt a listener handed over by ${handed.via.kind} on Bun`);
  const fd = handed.via.fd;
  const name = sockName(fd);
  if (name === undefined) throw new Error(`fd ${fd} is not a socket`);
  let listener: Listener | undefined;
  const readBuffer = options.readBuffer !== undefined && options.zeroCopyReads ? options.readBuffer : null;
  const server = Bun.listen<BunConnection>({ fd, allowHalfOpen: true, socket: handlers(accept, () => listener!, name.family === "unix", readBuffer) });
  setBacklog(server.fd, options.backlog);
  let closed = false;
  listener = {
    url: handed.url,
    close: async () => {
      if (closed) return;
      closed = true;
      server.stop(false); // close(2) of our copy; accepted connections stay
    },
  };
  return listener;
}
