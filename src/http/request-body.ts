/**
 * A request body as the app sees it: bytes the connection pushes in (copies it owns), handed out
 * either as a `ReadableStream` (request.body) or collected whole (text(), json(), arrayBuffer(),
 * without a web stream; the fast path of @hono/node-server's src/request.ts). Backpressure:
 * past HIGH_WATER_BYTES queued and unread, the owner is asked to stop reading the socket, and
 * asked to resume once a reader takes bytes. The owner also learns when the body is first
 * wanted, which is when a deferred `100 Continue` is sent.
 */

/** What the body needs from its connection. */
export interface BodyOwner {
  /** Someone reads the body: send 100 Continue if owed, resume reading if paused. */
  bodyWanted(): void;
  /** Unread bytes piled up: stop reading until bodyWanted(). */
  bodyFull(): void;
}

const HIGH_WATER_BYTES = 64 * 1024;

export class RequestBody {
  #owner: BodyOwner;
  #chunks: Uint8Array[] = [];
  #queued = 0;
  #ended = false;
  #error: unknown = null;
  #dropping = false;
  #stream: ReadableStream<Uint8Array> | null = null;
  #controller: ReadableByteStreamController | null = null;
  #pullDone: (() => void) | null = null;
  #collect: { resolve(b: Uint8Array): void; reject(e: unknown): void } | null = null;
  /** The app has started reading (a pull or a collect). */
  used = false;

  constructor(owner: BodyOwner) {
    this.#owner = owner;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Called by the connection with bytes it no longer needs (the body takes ownership). */
  push(chunk: Uint8Array): void {
    if (this.#dropping || this.#ended || this.#error !== null) return;
    this.#chunks.push(chunk);
    this.#queued += chunk.length;
    if (this.#pullDone !== null) this.#deliver();
    else if (this.#collect === null && this.#queued > HIGH_WATER_BYTES) this.#owner.bodyFull();
  }

  end(): void {
    if (this.#ended || this.#error !== null) return;
    this.#ended = true;
    if (this.#pullDone !== null) this.#deliver();
    if (this.#collect !== null) this.#finishCollect();
  }

  fail(error: unknown): void {
    if (this.#ended || this.#error !== null) return;
    this.#error = error;
    this.#chunks = [];
    this.#queued = 0;
    if (this.#pullDone !== null) this.#deliver();
    if (this.#collect !== null) {
      const c = this.#collect;
      this.#collect = null;
      c.reject(error);
    }
  }

  /** The app will never read the rest (its response is done, or it cancelled): drop it. */
  drop(): void {
    this.#dropping = true;
    this.#chunks = [];
    this.#queued = 0;
  }

  get stream(): ReadableStream<Uint8Array> {
    if (this.#stream !== null) return this.#stream;
    this.#stream = new ReadableStream({
      type: "bytes",
      start: (c) => {
        this.#controller = c;
      },
      pull: () => {
        this.used = true;
        this.#owner.bodyWanted();
        if (this.#chunks.length > 0 || this.#ended || this.#error !== null) {
          this.#deliverTo();
          return;
        }
        return new Promise<void>((resolve) => {
          this.#pullDone = resolve;
        });
      },
      cancel: () => {
        this.drop();
        this.#owner.bodyWanted();
      },
    }, { highWaterMark: 0 });
    return this.#stream;
  }

  /** All of the body as one array (empty when there is none). Rejects if the client goes away. */
  collect(): Promise<Uint8Array> {
    this.used = true;
    return new Promise<Uint8Array>((resolve, reject) => {
      if (this.#error !== null) return reject(this.#error);
      this.#collect = { resolve, reject };
      if (this.#ended) this.#finishCollect();
      else this.#owner.bodyWanted();
    });
  }

  #finishCollect(): void {
    const c = this.#collect!;
    this.#collect = null;
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#queued = 0;
    c.resolve(concat(chunks));
  }

  #deliver(): void {
    const done = this.#pullDone!;
    this.#pullDone = null;
    this.#deliverTo();
    done();
  }

  #deliverTo(): void {
    const c = this.#controller!;
    if (this.#error !== null) {
      c.error(this.#error);
      return;
    }
    if (this.#chunks.length > 0) {
      const chunks = this.#chunks;
      this.#chunks = [];
      this.#queued = 0;
      c.enqueue((chunks.length === 1 ? chunks[0]! : concat(chunks)) as Uint8Array<ArrayBuffer>);
      this.#owner.bodyWanted();
    }
    if (this.#ended) {
      c.close();
      // A BYOB reader may still hold a pending view after close(); respond(0) releases it.
      c.byobRequest?.respond(0);
    }
  }
}

export function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
