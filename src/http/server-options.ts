/**
 * What a worker hands the HTTP server: the limits and switches (HttpOptions, the CLI's options in
 * milliseconds and bytes), the runtime's clock, and the hooks through which the server reports
 * requests and retirement (HttpHooks). Types only; read by server.ts and every connection.
 */
import type { Clock } from "../runtime/runtime.js";
import type { PlatformBody } from "./app-response.js";
import type { AccessLogFormat } from "./access-log.js";

export interface HttpOptions {
  /** --timeout: the longest wait for one read (request body) or one write to drain. */
  timeoutMs: number;
  /** --keepalive-timeout: idle time allowed between requests; 0 closes after every response. */
  keepaliveTimeoutMs: number;
  /** --max-keepalive-reqs: requests per connection; 0 = no limit. */
  maxKeepaliveReqs: number;
  /** --header-timeout: the whole request head must arrive within this. */
  headerTimeoutMs: number;
  /** --max-header-size: longer heads get 431 (414 when the request line alone is longer). */
  maxHeaderSize: number;
  /** --max-body-size: larger bodies get 413; 0 = no limit. */
  maxBodySize: number;
  /** -E development: stacks in 500 responses. */
  development: boolean;
  /** Access-log lines, no trailing newline, in accessLogFormat. */
  accessLog?: (line: string) => void;
  /** --access-log-format: Apache's combined format (default) or one JSON object per line. */
  accessLogFormat?: AccessLogFormat;
  /** Error lines (protocol errors with the peer, app failures); default console.error. */
  errorLog?: (line: string) => void;
  /** Install the lightweight Response (fast-response.ts) as globalThis.Response; default true. */
  fastResponse?: boolean;
  /** Load the SIMD128 parser build (default true); false loads the scalar one. */
  wasmSimd?: boolean;
  /** The runtime's way to see a platform Response's body source without its stream. */
  platformBody?: PlatformBody;
  /** The runtime's monotonic clock and timers (the sweeper and every timeout). */
  clock: Clock;
  worker: { id: number; pid: number; generation: number };
}

export interface HttpHooks {
  /** A request was parsed and handed to the app (counts toward --max-reqs-per-child). */
  onRequest(): void;
  /** The app called info.retire(). */
  onRetire(): void;
}
