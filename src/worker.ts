/**
 * The worker process: load the app, adopt every inherited listening fd, serve, count requests,
 * and retire (quota, info.retire(), a stop from the supervisor, a signal, or the supervisor's
 * death): stop accepting, tell the supervisor "retiring" so the replacement starts at once,
 * finish in-flight and keep-alive requests (HttpServer.drain), run the --child-exit hook, exit 0.
 * Ready is reported only once the app loaded and every listener listens. Unlike Gazelle, the
 * child-exit hook also runs on a quota exit (Gazelle runs `child_exit` only from its signal path).
 */
import type { Config } from "./config.js";
import type { Listener, Signal, WorkerContext, WorkerRuntime } from "./runtime/runtime.js";
import { HttpServer, type FetchHandler, type HttpOptions } from "./http/server.js";
import { loadApp, loadChildExit, AppError } from "./app.js";

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

  const send = rt.connectSupervisor({
    message: (m) => (m.type === "stop" ? requestStop("stop") : stopNow()),
    gone: () => {
      // Nobody is left to enforce --graceful-timeout: this worker does it itself.
      requestStop("supervisor gone");
      if (config.gracefulTimeoutMs > 0) rt.setTimer(config.gracefulTimeoutMs, stopNow);
    },
  });
  // A first TERM/INT/QUIT is graceful, a second one is not. Counted apart from the supervisor's
  // "stop", so one Ctrl-C (INT to the whole process group, plus the supervisor's "stop") is
  // still graceful.
  rt.onWorkerSignal((signal: Signal) => (++signals > 1 ? stopNow() : requestStop(signal)));

  function requestStop(reason: string): void {
    if (!stopRequested) stopRequested = reason;
    if (server) void retire(reason);
    // Still loading the app: this worker has never accepted a connection, so nothing is lost by
    // exiting now, and an app that takes long to load must not hold up a stop or a reload.
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

  async function retire(reason: string): Promise<void> {
    if (retiring || !server) return;
    retiring = true;
    // A stop that arrives while the listeners are being adopted closes them once they listen:
    // closing none and exiting after the drain would drop what they accepted meanwhile.
    const listeners = await listening.catch(() => [] as Listener[]);
    // Stop accepting first, so no connection arrives after drain() looked at the idle ones.
    const closing = Promise.all(listeners.map((l) => l.close().catch(() => {})));
    send({ type: "retiring", reason });
    await Promise.all([closing, server.drain()]);
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
  const accessLog = config.accessLog ?? (config.env === "development" ? "-" : undefined);
  const options: HttpOptions = {
    timeoutMs: config.timeoutMs,
    keepaliveTimeoutMs: config.keepaliveTimeoutMs,
    maxKeepaliveReqs: config.maxKeepaliveReqs,
    headerTimeoutMs: config.headerTimeoutMs,
    maxHeaderSize: config.maxHeaderSize,
    maxBodySize: config.maxBodySize,
    development: config.env === "development",
    accessLog: accessLog === undefined ? undefined : rt.openLog(accessLog),
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
  const accept = srv.accept.bind(srv);
  listening = Promise.all(
    ctx.listeners.map((l) => rt.listen(l, { backlog: config.backlog, readBuffer: srv.readBuffer, zeroCopyReads: config.zeroCopyReads }, accept)),
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
