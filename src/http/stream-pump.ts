/**
 * StreamPump sends one ReadableStream response body, framed as the response plan chose: chunked,
 * raw up to a known Content-Length (checked both ways: a body longer or shorter than it is an
 * error), or close-delimited for HTTP/1.0. It writes through its sink and waits for writable()
 * whenever the sink says the socket did not take everything; it reports how the body ended and
 * never decides what happens to the connection.
 */
import { utf8Bytes } from "./text-encoding.js";

/** Where StreamPump writes, and whom it tells how it ended. */
export interface PumpSink {
  /** Returns false when the pump must wait for writable() before writing more. */
  pumpWrite(chunks: readonly (Uint8Array | string)[]): boolean;
  pumpDone(bodyBytes: number): void;
  pumpFailed(error: unknown, bodyBytes: number): void;
}

export const PUMP_CHUNKED = 0;
export const PUMP_LENGTH = 1;
/** HTTP/1.0 without a Content-Length: the body ends where the connection does. */
export const PUMP_CLOSE_DELIMITED = 2;

export class StreamPump {
  #sink: PumpSink;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #mode: number;
  #length: number;
  #sent = 0;
  #cancelled = false;
  #waitWritable: (() => void) | null = null;

  /** Throws (before anything is written) when the stream is locked. */
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

  /** The socket took everything written so far: continue. */
  writable(): void {
    const w = this.#waitWritable;
    this.#waitWritable = null;
    w?.();
  }

  /** The client is gone: stop reading and let the app's stream know. */
  cancel(reason: unknown): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#reader.cancel(reason).catch(() => {});
    this.writable();
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
          this.#waitWritable = resolve;
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
