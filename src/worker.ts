/**
 * The worker process: load the app, adopt every inherited listening fd, serve, count requests,
 * and retire (quota, info.retire(), a stop from the supervisor, a signal, or the supervisor's
 * death): stop accepting, tell the supervisor "retiring" so the replacement starts at once,
 * finish in-flight and keep-alive requests (HttpServer.stopGracefully), run the --child-exit
 * hook, exit 0.
 * Ready is reported only once the app loaded and every listener listens. Unlike Gazelle, the
 * child-exit hook also runs on a quota exit (Gazelle runs `child_exit` only from its signal path).
 * An error the app leaves uncaught outside a request (a timer that throws, a rejection nobody
 * handles, a throwing abort listener) is logged and the worker lives on, as it does when fetch
 * throws (a 500); a storm of them (UNCAUGHT_STORM_COUNT within UNCAUGHT_STORM_MS) retires it.
 */
import type { Config } from "./config.js";
import type { Listener, LogSink, ServerStatus, Signal, SupervisorMessage, WorkerContext, WorkerRuntime } from "./runtime/runtime.js";
import { HttpServer, type FetchHandler, type HttpOptions } from "./http/server.js";
import { loadApp, loadChildExit, AppError } from "./app.js";
import { withEndpoints, COLLECT_TIMEOUT_MS, type Endpoints } from "./status.js";

/** This many uncaught errors within UNCAUGHT_STORM_MS retire the worker: something in it is
 *  broken for good (a timer that throws on every tick), and a fresh process is the cure. Below
 *  that (an abort listener that throws now and then) the worker keeps serving. */
export const UNCAUGHT_STORM_COUNT = 100;
export const UNCAUGHT_STORM_MS = 10_000;

/** Gazelle's `_calc_minmax_per_child`: uniform whole number in [min, max]; 0 = no limit. */
export function requestLimit(max: number, min: number | undefined, random: () => number = Math.random): number {
  if (max === 0 || min === undefined) return max;
  return max - Math.floor((max - min + 1) * random());
}

export async function runWorker(rt: WorkerRuntime, ctx: WorkerContext, fetch?: FetchHandler): Promise<void> {
  const config = ctx.payload as Config;
  const worker = { id: ctx.id, pid: rt.pid, generation: ctx.generation };
  const tag = `pronghorn: worker ${worker.id} (pid ${worker.pid})`;
  let server: HttpServer | undefined;
  /** Every inherited listener, once listening (a stop may arrive while they are being adopted). */
  let listening: Promise<Listener[]> = Promise.resolve([]);
  let stopRequested = "";
  let retiring = false;
  let signals = 0;
  /** stop-now arrived (the deadline passed): no more waiting, for requests or for the hook. */
  let forced = false;
  let inHook = false;

  let endpoints: Endpoints | undefined;
  let accessLog: LogSink | undefined;
  /** Status pages waiting for the supervisor's answer, by ask number. */
  const asks = new Map<number, (s: ServerStatus | undefined) => void>();
  let nextAsk = 1;

  const onMessage = (m: SupervisorMessage): void => {
    if (m.type === "stop") requestStop("stop");
    else if (m.type === "stop-now") stopNow();
    else if (m.type === "counters") {
      if (endpoints) send({ type: "counters", ask: m.ask, counters: endpoints.counters() });
    } else if (m.type === "status") {
      asks.get(m.ask)?.(m.status);
      asks.delete(m.ask);
    } else if (m.type === "reopen-logs") accessLog?.reopen();
  };

  /** Every worker's counters, through the supervisor; undefined if it does not answer in time. */
  const collect = (): Promise<ServerStatus | undefined> =>
    new Promise((resolve) => {
      const ask = nextAsk++;
      const timer = rt.setTimer(COLLECT_TIMEOUT_MS, () => {
        asks.delete(ask);
        resolve(undefined);
      });
      asks.set(ask, (s) => {
        timer.cancel();
        resolve(s);
      });
      send({ type: "status", ask });
    });

  const send = rt.connectSupervisor({
    message: onMessage,
    gone: () => {
      // Nobody is left to enforce --graceful-timeout: this worker does it itself.
      requestStop("supervisor gone");
      if (config.gracefulTimeoutMs > 0) rt.setTimer(config.gracefulTimeoutMs, stopNow);
    },
  });
  // A first TERM/INT/QUIT is graceful, a second one is not. Counted apart from the supervisor's
  // "stop", so one Ctrl-C (INT to the whole process group, plus the supervisor's "stop") is
  // still graceful.
  rt.onWorkerSignal((signal: Signal) => {
    if (signal === "SIGUSR2") accessLog?.reopen();
    else if (++signals > 1) stopNow();
    else requestStop(signal, signal);
  });

  const errorTimes: number[] = [];
  rt.onUncaughtError((err, kind) => {
    try {
      const what = kind === "exception" ? "uncaught exception" : "unhandled rejection";
      rt.log(`${tag}: ${what} (the worker goes on): ${describeError(err, config.env === "development")}`);
      const now = rt.now();
      errorTimes.push(now);
      while (errorTimes[0] <= now - UNCAUGHT_STORM_MS) errorTimes.shift();
      if (errorTimes.length < UNCAUGHT_STORM_COUNT || retiring || stopRequested) return;
      rt.log(`${tag}: ${errorTimes.length} uncaught errors within ${UNCAUGHT_STORM_MS / 1000} s; retiring`);
      if (server) void retire("uncaught errors", { errors: errorTimes.length });
      else rt.exit(1); // still loading: a failed start
    } catch {
      // Logging failed (stderr gone): nothing better to do, and throwing here would end the process.
    }
  });

  /** `signal`: the stop came from a signal sent to this process (perhaps to its whole group). */
  function requestStop(reason: string, signal?: Signal): void {
    if (!stopRequested) stopRequested = reason;
    if (server) void retire(reason, { signal });
    // Still loading the app: this worker has never accepted a connection, so nothing is lost by
    // exiting now, and an app that takes long to load must not hold up a stop or a reload. A
    // signal is the supervisor's news too (it may have had one as well): it hears it first.
    else if (signal) send({ type: "retiring", reason, signal }, () => rt.exit(0));
    else rt.exit(0);
  }

  function stopNow(): void {
    if (!server) rt.exit(0);
    else {
      forced = true;
      void retire("stop-now");
      server.destroyAll();
      // Connections are closed: all that can remain is the hook, and the deadline has passed.
      if (inHook) {
        rt.log(`${tag}: --child-exit did not finish before --graceful-timeout; exiting without it`);
        rt.exit(0);
      }
    }
  }

  async function retire(reason: string, why: { signal?: Signal; errors?: number } = {}): Promise<void> {
    if (retiring || !server) return;
    retiring = true;
    // A stop that arrives while the listeners are being adopted closes them once they listen:
    // closing none and exiting after the graceful stop would drop what they accepted meanwhile.
    const listeners = await listening.catch(() => [] as Listener[]);
    // Stop accepting first, so no connection arrives after stopGracefully() looked at the idle ones.
    const closing = Promise.all(listeners.map((l) => l.close().catch(() => {})));
    send({ type: "retiring", reason, ...why });
    await Promise.all([closing, server.stopGracefully()]);
    if (config.childExit && forced) {
      rt.log(`${tag}: --child-exit did not run: --graceful-timeout passed before the requests finished`);
    } else if (config.childExit) {
      inHook = true;
      try {
        const hook = await loadChildExit(config.childExit);
        await hook({ worker, reason });
      } catch (err) {
        rt.log(`${tag}: --child-exit failed: ${err instanceof AppError ? err.message : (err as Error)?.stack ?? err}`);
      }
    }
    rt.exit(0);
  }

  try {
    fetch ??= await loadApp(config.app);
  } catch (err) {
    rt.log(err instanceof AppError ? err.message : `${tag}: cannot load ${config.app}: ${(err as Error)?.stack ?? err}`);
    rt.exit(1);
    return;
  }
  if (stopRequested) {
    rt.exit(0);
    return;
  }

  const limit = requestLimit(config.maxReqsPerChild, config.minReqsPerChild);
  let served = 0;
  let connections = 0;
  const logPath = config.accessLog ?? (config.env === "development" ? "-" : undefined);
  if (logPath !== undefined) {
    accessLog = rt.openLog(logPath);
  }
  if (config.statusPath !== undefined || config.healthPath !== undefined) {
    endpoints = withEndpoints(fetch, {
      statusPath: config.statusPath,
      statusAllow: config.statusAllow,
      healthPath: config.healthPath,
      clock: rt,
      accepting: () => !retiring && !stopRequested,
      totals: () => ({ requests: served, connections }),
      collect,
      self: worker,
    });
    fetch = endpoints.fetch;
  }
  const options: HttpOptions = {
    timeoutMs: config.timeoutMs,
    keepaliveTimeoutMs: config.keepaliveTimeoutMs,
    maxKeepaliveReqs: config.maxKeepaliveReqs,
    headerTimeoutMs: config.headerTimeoutMs,
    maxHeaderSize: config.maxHeaderSize,
    maxBodySize: config.maxBodySize,
    development: config.env === "development",
    accessLog: accessLog?.write,
    accessLogFormat: config.accessLogFormat,
    errorLog: (line) => rt.log(line),
    // The lightweight global Response (http/fast-response.ts) is on unless asked otherwise.
    fastResponse: !config.nativeResponse,
    wasmSimd: config.wasmSimd,
    platformBody: rt.platformBody,
    clock: rt,
    worker,
  };
  const srv = new HttpServer(fetch, options, {
    onRequest() {
      if (++served === limit) void retire("quota");
    },
    onRetire() {
      void retire("retire()");
    },
  });
  server = srv;
  // Connections are counted only for the status page.
  const accept: Parameters<WorkerRuntime["listen"]>[2] = endpoints
    ? (socket, listener) => {
      connections++;
      return srv.accept(socket, listener);
    }
    : srv.accept.bind(srv);
  listening = Promise.all(
    ctx.listeners.map((l) => rt.listen(l, { backlog: config.backlog, readBuffer: srv.readBuffer, zeroCopyReads: config.zeroCopyReads, directHandles: config.directHandles }, accept)),
  );
  try {
    await listening;
  } catch (err) {
    rt.log(`${tag}: cannot listen: ${(err as Error)?.message ?? err}`);
    rt.exit(1);
    return;
  }
  send({ type: "ready" });
  if (stopRequested) void retire(stopRequested);
}

/** An uncaught value for the log: one line, or in development the stack under it. */
export function describeError(err: unknown, withStack: boolean): string {
  try {
    if (err instanceof Error) {
      if (withStack && typeof err.stack === "string" && err.stack !== "") return err.stack;
      return `${err.name}: ${err.message}`.split("\n")[0];
    }
    return String(err).split("\n")[0];
  } catch {
    return Object.prototype.toString.call(err); // a value whose toString throws
  }
}
