/**
 * The `Request` an app receives: lazy, so a request costs what the app touches. method, url and
 * headers come from the parsed head without undici (url is string concatenation unless it needs
 * normalising; Headers is built on first access); body methods read the connection's bytes
 * directly (request-body.ts). Anything else (cache, mode, signal-bearing clones ...) builds the real
 * undici Request once and delegates to it, the technique of @hono/node-server's
 * src/request.ts. The prototype chains to the platform's Request, so `instanceof Request` holds.
 * Measured on Node 20: `new Request(url)` alone costs ~3 µs, more than the rest of a request.
 */
import { escapeHighOctets, type RequestHead } from "./framing.js";
import { concat, type RequestBody } from "./request-body.js";
import { forwardToPlatform } from "./lazy-platform.js";

const NativeRequest = globalThis.Request;

// Origin-form targets that the WHATWG URL parser would leave exactly as they are: printable
// ASCII, no dot segments, no backslash, no encoded dot. Anything else goes through new URL().
const UNSAFE_TARGET_RE = /[^\x21-\x7e]|\/\.|\\|%2e/i;
const PLAIN_HOST_RE = /^[a-z0-9.-]+(?::[0-9]{1,5})?$/;

/** request.url as the platform would serialise it, cheaply when nothing needs normalising. */
export function requestUrl(head: RequestHead, defaultHost: string): string {
  if (head.absolute) return normalise(escapeHighOctets(head.target));
  const host = head.host !== null && head.host !== "" ? head.host : defaultHost;
  const target = head.target === "*" ? "/*" : head.target;
  const raw = `http://${host}${target}`;
  if (PLAIN_HOST_RE.test(host) && !host.endsWith(":80") && !UNSAFE_TARGET_RE.test(target)) return raw;
  return normalise(escapeHighOctets(raw));
}

function normalise(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

let materialize: (r: PronghornRequest) => Request;

export class PronghornRequest {
  #head: RequestHead;
  #defaultHost: string;
  #url: string | null = null;
  #headers: Headers | null = null;
  #body: RequestBody | null;
  #stream: ReadableStream<Uint8Array> | null = null;
  #used = false;
  #abort: AbortController | null = null;
  #abortReason: unknown = undefined;
  #real: Request | null = null;

  constructor(head: RequestHead, defaultHost: string, body: RequestBody | null) {
    this.#head = head;
    this.#defaultHost = defaultHost;
    this.#body = body;
  }

  static {
    materialize = (r) => r.#materialize();
  }

  get method(): string {
    return this.#head.method;
  }

  get url(): string {
    return this.#url ??= requestUrl(this.#head, this.#defaultHost);
  }

  get headers(): Headers {
    if (this.#headers !== null) return this.#headers;
    const h = new Headers();
    const raw = this.#head.headers;
    for (let i = 0; i < raw.length; i += 2) h.append(raw[i]!, raw[i + 1]!);
    return this.#headers = h;
  }

  get signal(): AbortSignal {
    if (this.#abort === null) {
      this.#abort = new AbortController();
      if (this.#abortReason !== undefined) this.#abort.abort(this.#abortReason);
    }
    return this.#abort.signal;
  }

  /** The connection calls this when the client goes away before the response is done. */
  abort(reason: unknown): void {
    if (this.#abortReason !== undefined) return;
    this.#abortReason = reason;
    this.#abort?.abort(reason);
    this.#body?.fail(reason);
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.#body === null) return null;
    return this.#stream ??= this.#body.stream;
  }

  get bodyUsed(): boolean {
    return this.#used || (this.#body !== null && this.#body.used);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.#consume();
    return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength
      ? b.buffer as ArrayBuffer
      : b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    return this.#consume();
  }

  async text(): Promise<string> {
    return new TextDecoder().decode(await this.#consume());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async blob(): Promise<Blob> {
    const bytes = await this.#consume();
    return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: this.headers.get("content-type") ?? "" });
  }

  async formData(): Promise<FormData> {
    const bytes = await this.#consume();
    // The platform's multipart and urlencoded parsers, on a Request that carries the bytes.
    const carrier = new NativeRequest("http://localhost/", {
      method: "POST", headers: this.headers, body: bytes as Uint8Array<ArrayBuffer>,
    });
    return carrier.formData();
  }

  clone(): Request {
    if (this.bodyUsed) throw new TypeError("Request.clone: the body has already been read");
    const init: RequestInit & { duplex?: "half" } = { method: this.method, headers: new Headers(this.headers), signal: this.signal };
    const stream = this.body;
    if (stream !== null && this.method !== "GET" && this.method !== "HEAD") {
      const [mine, theirs] = stream.tee();
      this.#stream = mine;
      init.body = theirs;
      init.duplex = "half";
    }
    return new NativeRequest(this.url, init);
  }

  async #consume(): Promise<Uint8Array> {
    if (this.bodyUsed || (this.#stream !== null && this.#stream.locked)) {
      throw new TypeError("Body is unusable: Body has already been read");
    }
    this.#used = true;
    if (this.#body === null) return new Uint8Array(0);
    if (this.#stream === null) return this.#body.collect();
    const chunks: Uint8Array[] = [];
    const reader = this.#stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    return concat(chunks);
  }

  // Everything else the platform's Request has reads its real counterpart, built once. It
  // carries no body: the body methods above are the only way to the bytes.
  #materialize(): Request {
    return this.#real ??= new NativeRequest(this.url, {
      method: this.method, headers: this.headers, signal: this.signal,
    });
  }
}

forwardToPlatform(PronghornRequest.prototype, NativeRequest.prototype, (self) => materialize(self as PronghornRequest));
