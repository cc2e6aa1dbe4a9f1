/**
 * Errors nobody caught, routed to a handler instead of ending the process (WorkerRuntime's
 * onUncaughtError). Tested on Node 20/26, Bun 1.4 and Deno 2.9: an exception thrown by an
 * AbortSignal listener, a timer, a microtask, and an unhandled rejection.
 *
 * - Node and Bun: process 'uncaughtException' and 'unhandledRejection'. With a listener, Node
 *   keeps running (nodejs.org/api/process.html#event-uncaughtexception), and an unhandled
 *   rejection is no longer raised as an exception (--unhandled-rejections=throw, the default,
 *   applies only when no 'unhandledRejection' listener exists). Node's EventTarget reports a
 *   throwing listener through process.nextTick, so it arrives here as an exception.
 * - Deno: its own globalThis 'error' and 'unhandledrejection' events (the HTML Standard's
 *   "report an exception" and "unhandledrejection"); preventDefault() is what keeps the process
 *   alive (Deno manual, "Program Lifecycle"; docs.deno.com/api/web/~/onunhandledrejection).
 *   Deno's node:process 'uncaughtException' rests on the same events.
 */

type Handler = (error: unknown, kind: "exception" | "rejection") => void;

export function onProcessUncaughtError(handler: Handler): void {
  process.on("uncaughtException", (err) => handler(err, "exception"));
  process.on("unhandledRejection", (reason) => handler(reason, "rejection"));
}

interface ErrorEventLike extends Event {
  readonly error?: unknown;
}
interface RejectionEventLike extends Event {
  readonly reason?: unknown;
}

export function onGlobalUncaughtError(handler: Handler): void {
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    handler((e as ErrorEventLike).error, "exception");
  });
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    handler((e as RejectionEventLike).reason, "rejection");
  });
}
