/**
 * The prefork supervisor: pure policy over the SupervisorRuntime (spawn, reap, signals, timers).
 * It holds the listening sockets without polling them, never serves a request, and keeps
 * `workers` workers of the current generation alive. Parallel::Prefork semantics with Gazelle's
 * bugs fixed (Parallel::Prefork 0.18, Gazelle 0.49): HUP starts a fresh generation and retires an old
 * worker only once a new one is ready; --spawn-interval paces spawns (HUP and USR1 included,
 * for real, unlike Gazelle's one-second cut-off); a retiring worker's replacement starts as it
 * stops accepting; a crash loop backs off; stopping has a deadline, and so has starting
 * (--startup-timeout: a worker whose app never finishes loading is a failed start). A worker that
 * retires on a signal is replaced only if the supervisor had none itself (Ctrl-C reaches the
 * whole process group). No I/O here but the runtime's.
 */
import type { Config } from "./config.js";
import type { BoundListener, ServerStatus, SupervisorRuntime, Signal, Timer, WorkerMessage, WorkerProcess } from "./runtime/runtime.js";

export interface SupervisorOptions {
  workers: number;
  spawnIntervalMs: number;
  /** How long a retiring worker may take to finish its requests before its connections are
   *  closed; 0 = forever. */
  gracefulTimeoutMs: number;
  /** How long a new worker may take to report ready before it is stopped (a failed start);
   *  0 or absent = forever. */
  startupTimeoutMs?: number;
  /** Handed to every worker (its Config). */
  payload: unknown;
}

/** The first respawn after a crash waits this long; each further crash in a row doubles it. */
export const BACKOFF_FIRST_MS = 100;
export const BACKOFF_MAX_MS = 10_000;
/** A worker that was ready this long before it died ends a crash streak (srvx uses 10 s too). */
export const STABLE_MS = 10_000;
/** After "stop-now", how long a worker gets before SIGKILL. */
export const KILL_GRACE_MS = 5_000;
/** Before any worker was ever ready, this many failed starts in a row end the supervisor. */
export const START_ATTEMPTS = 3;
/** A worker that retires on a signal of its own is replaced only after this long: a signal to
 *  the whole process group (Ctrl-C, `kill -TERM -PGID`, systemd's KillMode=control-group)
 *  reaches the supervisor at the same moment, but the two may be handled in either order, and a
 *  stop within this window means nothing is to be replaced. Measured on a 2-core machine at load
 *  average 7: the supervisor handled its own signal at most 20 ms after a worker's "retiring"
 *  (without the window, the replacements' spawns delayed it by up to 270 ms). Connections
 *  meanwhile queue on the listening socket (or go to the other workers); none is refused. */
export const SIGNAL_SETTLE_MS = 500;
/** A status ask waits this long for every worker's counters; one that has not answered by then
 *  (blocked in a long synchronous task) is listed with the counters it last reported. */
export const STATUS_DEADLINE_MS = 500;

/** starting: spawned, not ready. ready: accepting. retiring: stopped accepting, finishing its requests. */
type WorkerState = "starting" | "ready" | "retiring";

interface Worker {
  id: number;
  generation: number;
  proc: WorkerProcess;
  state: WorkerState;
  readyAt: number | undefined;
  deadline: Timer | undefined;
  /** --startup-timeout, while starting. */
  startup: Timer | undefined;
  /** It was not ready by --startup-timeout and was stopped: its exit is a failed start. */
  timedOut: boolean;
  /** What it last reported for a status page (opaque here). */
  counters: unknown;
}

/** A status page being collected for the worker `from`, which asked with its number `ask`. */
interface StatusAsk {
  from: Worker;
  ask: number;
  waiting: Set<Worker>;
  timer: Timer;
}

export class Supervisor {
  readonly #rt: SupervisorRuntime;
  readonly #opts: SupervisorOptions;
  readonly #listeners: readonly BoundListener[];
  readonly #workers = new Set<Worker>();
  #generation = 1;
  #stopping = false;
  #forced = 0;
  #lastSpawnAt = -Infinity;
  #backoffUntil = -Infinity;
  #crashStreak = 0;
  #failedStarts = 0;
  #everReady = false;
  #announced = false;
  #reloading = false;
  #spawnTimer: Timer | undefined;
  #pacedStopTimer: Timer | undefined;
  /** Pending while a worker's own signal may turn out to be a process group's (SIGNAL_SETTLE_MS). */
  #settleTimer: Timer | undefined;
  #finished = false;
  readonly #startedAt: number;
  readonly #asks = new Map<number, StatusAsk>();
  #nextAsk = 1;

  constructor(rt: SupervisorRuntime, opts: SupervisorOptions, listeners: readonly BoundListener[]) {
    this.#rt = rt;
    this.#opts = opts;
    this.#listeners = listeners;
    this.#startedAt = rt.now();
  }

  start(): void {
    this.#rt.onSignal((s) => this.signal(s));
    this.#reconcile();
  }

  /** Workers alive (any generation, any state); for tests and logs. */
  get workerCount(): number {
    return this.#workers.size;
  }

  get generation(): number {
    return this.#generation;
  }

  signal(signal: Signal): void {
    if (signal === "SIGHUP") this.#reload();
    else if (signal === "SIGUSR1") this.#stop(signal, true);
    else if (signal === "SIGUSR2") this.#reopenLogs();
    else this.#stop(signal, false);
  }

  // --- keeping the pool full --------------------------------------------------------------

  #active(generation: number): Worker[] {
    return [...this.#workers].filter((w) => w.generation === generation && w.state !== "retiring");
  }

  /** Spawn until the current generation has `workers` non-retiring workers, at most one per
   *  --spawn-interval and not before a crash backoff ends. */
  #reconcile(): void {
    if (this.#stopping || this.#finished || this.#settleTimer) return;
    let need = this.#opts.workers - this.#active(this.#generation).length;
    while (need > 0) {
      const earliest = Math.max(this.#lastSpawnAt + this.#opts.spawnIntervalMs, this.#backoffUntil);
      const now = this.#rt.now();
      if (now < earliest) {
        if (!this.#spawnTimer) {
          this.#spawnTimer = this.#rt.setTimer(earliest - now, () => {
            this.#spawnTimer = undefined;
            this.#reconcile();
          });
        }
        return;
      }
      this.#spawn();
      need--;
    }
  }

  #spawn(): void {
    const used = new Set(this.#active(this.#generation).map((w) => w.id));
    let id = 1;
    while (used.has(id)) id++;
    this.#lastSpawnAt = this.#rt.now();
    const generation = this.#generation;
    let proc: WorkerProcess;
    try {
      // The events arrive from the event loop, after `w` below exists.
      proc = this.#rt.spawnWorker(
        { id, generation, listeners: this.#listeners, payload: this.#opts.payload },
        { message: (m) => this.#onMessage(w, m), exit: (code, signal) => this.#onExit(w, code, signal) },
      );
    } catch (err) {
      const delay = this.#backoff();
      this.#rt.log(`pronghorn: cannot start worker ${id}: ${(err as Error).message}; retrying in ${delay} ms`);
      return;
    }
    const w: Worker = {
      id,
      generation,
      proc,
      state: "starting",
      readyAt: undefined,
      deadline: undefined,
      startup: undefined,
      timedOut: false,
      counters: undefined,
    };
    this.#workers.add(w);
    const limit = this.#opts.startupTimeoutMs ?? 0;
    if (limit > 0) w.startup = this.#rt.setTimer(limit, () => this.#startupExpired(w, limit));
  }

  /** Not ready in time: TERM (a loading worker exits at once), SIGKILL if that is not enough
   *  (an import stuck in a synchronous loop); the exit counts as a failed start. */
  #startupExpired(w: Worker, limit: number): void {
    w.startup = undefined;
    if (!this.#workers.has(w) || w.state !== "starting") return;
    w.timedOut = true;
    this.#rt.log(`pronghorn: worker ${w.id} (pid ${w.proc.pid}) not ready within ${limit / 1000} s (--startup-timeout); stopping it`);
    w.proc.kill("SIGTERM");
    w.deadline?.cancel();
    w.deadline = this.#rt.setTimer(KILL_GRACE_MS, () => {
      if (!this.#workers.has(w)) return;
      this.#rt.log(`pronghorn: worker ${w.id} (pid ${w.proc.pid}) still running ${KILL_GRACE_MS / 1000} s after SIGTERM; sending SIGKILL`);
      w.proc.kill("SIGKILL");
    });
  }

  /** Grow the crash streak and return the delay before the next spawn. */
  #backoff(): number {
    this.#crashStreak++;
    const delay = Math.min(BACKOFF_FIRST_MS * 2 ** (this.#crashStreak - 1), BACKOFF_MAX_MS);
    this.#backoffUntil = this.#rt.now() + delay;
    return delay;
  }

  #onMessage(w: Worker, m: WorkerMessage): void {
    // A worker stopped for --startup-timeout stays "starting" until it exits (a failed start),
    // whatever it reports meanwhile.
    if (!this.#workers.has(w) || w.timedOut) return;
    if (m.type === "ready") {
      if (w.state !== "starting") return;
      w.startup?.cancel();
      w.startup = undefined;
      w.state = "ready";
      w.readyAt = this.#rt.now();
      this.#everReady = true;
      this.#failedStarts = 0;
      if (w.generation === this.#generation) this.#retireOneOld();
      this.#announce();
    } else if (m.type === "retiring") {
      if (w.state === "retiring") return;
      const wasReady = w.state === "ready";
      w.state = "retiring";
      this.#armDeadline(w);
      if (this.#stopping) return;
      if (m.errors !== undefined && wasReady) {
        // Unhealthy, not finished: its replacement waits like a crashed worker's, so code that
        // throws on every tick recycles workers at the backoff's pace, not in a loop.
        if (w.readyAt !== undefined && this.#rt.now() - w.readyAt >= STABLE_MS) this.#crashStreak = 0;
        const delay = this.#backoff();
        this.#rt.log(`pronghorn: worker ${w.id} (pid ${w.proc.pid}) retires after ${m.errors} uncaught errors; replacing it in ${delay} ms`);
      }
      if (m.signal !== undefined && !this.#settleTimer) {
        this.#settleTimer = this.#rt.setTimer(SIGNAL_SETTLE_MS, () => {
          this.#settleTimer = undefined;
          this.#reconcile();
        });
      }
      this.#reconcile();
    } else if (m.type === "status") {
      this.#askCounters(w, m.ask);
    } else if (m.type === "counters") {
      w.counters = m.counters;
      const a = this.#asks.get(m.ask);
      if (a?.waiting.delete(w) && a.waiting.size === 0) this.#answer(a);
    }
  }

  // --- status pages: counters relayed, never read ---------------------------------------------

  /** Ask every worker that serves (or is finishing its requests) for its counters; answer
   *  `from` once all have answered or STATUS_DEADLINE_MS passed. */
  #askCounters(from: Worker, ask: number): void {
    const id = this.#nextAsk++;
    const waiting = new Set([...this.#workers].filter((x) => x.state !== "starting"));
    const a: StatusAsk = { from, ask, waiting, timer: this.#rt.setTimer(STATUS_DEADLINE_MS, () => this.#answer(a)) };
    this.#asks.set(id, a);
    for (const x of waiting) x.proc.send({ type: "counters", ask: id });
    if (waiting.size === 0) this.#answer(a);
  }

  #answer(a: StatusAsk): void {
    a.timer.cancel();
    for (const [id, x] of this.#asks) if (x === a) this.#asks.delete(id);
    if (!this.#workers.has(a.from)) return;
    const status: ServerStatus = {
      pid: this.#rt.pid,
      uptimeMs: this.#rt.now() - this.#startedAt,
      generation: this.#generation,
      workers: [...this.#workers]
        .filter((x) => x.state !== "starting")
        .sort((x, y) => x.generation - y.generation || x.id - y.id)
        .map((x) => ({ pid: x.proc.pid, id: x.id, generation: x.generation, retiring: x.state === "retiring", answered: !a.waiting.has(x), counters: x.counters })),
    };
    a.from.proc.send({ type: "status", ask: a.ask, status });
  }

  // --- USR2: reopen log files -----------------------------------------------------------------

  #reopenLogs(): void {
    if (this.#finished) return;
    this.#rt.log(`pronghorn: SIGUSR2: workers reopen their access logs`);
    for (const w of this.#workers) w.proc.send({ type: "reopen-logs" });
  }

  #onExit(w: Worker, code: number | null, signal: string | null): void {
    if (!this.#workers.delete(w)) return;
    for (const a of this.#asks.values()) if (a.waiting.delete(w) && a.waiting.size === 0) this.#answer(a);
    w.deadline?.cancel();
    w.startup?.cancel();
    const how = signal ? `on ${signal}` : `with status ${code}`;
    const clean = code === 0 && !signal;
    const expected = w.state === "retiring";
    const who = `worker ${w.id} (pid ${w.proc.pid})`;
    if (this.#stopping) {
      if (!clean && !expected) this.#rt.log(`pronghorn: ${who} exited ${how}`);
    } else if (!expected) {
      const what = w.timedOut
        ? `was stopped after --startup-timeout (exited ${how})`
        : `exited ${how}${w.state === "starting" ? " before it was ready" : ""}`;
      if (w.state === "starting" && !this.#everReady && ++this.#failedStarts >= START_ATTEMPTS) {
        this.#rt.log(`pronghorn: ${who} ${what}; giving up after ${START_ATTEMPTS} failed starts`);
        this.#finish(1);
        return;
      }
      if (w.generation === this.#generation) {
        if (w.readyAt !== undefined && this.#rt.now() - w.readyAt >= STABLE_MS) this.#crashStreak = 0;
        const delay = this.#backoff();
        this.#rt.log(`pronghorn: ${who} ${what}; respawning in ${delay} ms`);
      } else {
        this.#rt.log(`pronghorn: ${who} of generation ${w.generation} exited ${how}; generation ${this.#generation} replaces it`);
      }
    } else if (!clean) {
      this.#rt.log(`pronghorn: ${who} exited ${how} while retiring`);
    }
    if (this.#stopping) {
      if (this.#workers.size === 0) this.#finish(0);
      return;
    }
    this.#reconcile();
    this.#checkReloaded();
  }

  #announce(): void {
    if (this.#announced || this.#active(this.#generation).filter((w) => w.state === "ready").length < this.#opts.workers) return;
    this.#announced = true;
    const n = this.#opts.workers;
    for (const l of this.#listeners) {
      this.#rt.log(`pronghorn: accepting connections at ${l.url} (${this.#rt.version}, ${n} worker${n === 1 ? "" : "s"})`);
    }
  }

  // --- graceful retirement ----------------------------------------------------------------

  /** Ask a worker to stop accepting and finish its requests; idempotent. */
  #retire(w: Worker): void {
    if (w.state === "retiring") return;
    w.state = "retiring";
    w.proc.send({ type: "stop" });
    this.#armDeadline(w);
  }

  #armDeadline(w: Worker): void {
    if (this.#opts.gracefulTimeoutMs > 0 && !w.deadline) {
      w.deadline = this.#rt.setTimer(this.#opts.gracefulTimeoutMs, () => this.#force(w));
    }
  }

  /** Close the worker's connections now; SIGKILL if it still has not exited after a grace. */
  #force(w: Worker): void {
    if (!this.#workers.has(w)) return;
    w.proc.send({ type: "stop-now" });
    w.deadline?.cancel();
    w.deadline = this.#rt.setTimer(KILL_GRACE_MS, () => {
      if (!this.#workers.has(w)) return;
      this.#rt.log(`pronghorn: worker ${w.id} (pid ${w.proc.pid}) still running ${KILL_GRACE_MS / 1000} s after its connections were closed; sending SIGKILL`);
      w.proc.kill("SIGKILL");
    });
  }

  // --- HUP: reload --------------------------------------------------------------------------

  #reload(): void {
    if (this.#stopping) return;
    this.#generation++;
    this.#reloading = true;
    this.#rt.log(`pronghorn: reloading: starting generation ${this.#generation} (${this.#opts.workers} workers)`);
    // A HUP brings new code: the streak of the code that crashed is not its streak, and a fix
    // must not wait out a backoff of up to 10 s. (A HUP storm with broken code spawns at most
    // one generation per HUP, so this cannot spin.)
    this.#crashStreak = 0;
    this.#backoffUntil = -Infinity;
    this.#spawnTimer?.cancel();
    this.#spawnTimer = undefined;
    // A starting old worker has never served: nothing to wait for.
    for (const w of this.#workers) if (w.state === "starting") this.#retire(w);
    this.#reconcile();
  }

  /** One new worker is ready: retire one old one (oldest generation first). */
  #retireOneOld(): void {
    const old = [...this.#workers]
      .filter((w) => w.generation < this.#generation && w.state === "ready")
      .sort((a, b) => a.generation - b.generation || (a.readyAt ?? 0) - (b.readyAt ?? 0));
    if (old.length > 0) this.#retire(old[0]);
    this.#checkReloaded();
  }

  #checkReloaded(): void {
    if (!this.#reloading) return;
    const ready = this.#active(this.#generation).filter((w) => w.state === "ready").length;
    const oldLeft = [...this.#workers].some((w) => w.generation < this.#generation);
    if (ready >= this.#opts.workers && !oldLeft) {
      this.#reloading = false;
      this.#rt.log(`pronghorn: reloaded: generation ${this.#generation} is serving (${ready} workers)`);
    }
  }

  // --- TERM/INT/QUIT: stop; USR1: stop paced by --spawn-interval ------------------------------

  #stop(signal: Signal, paced: boolean): void {
    if (this.#stopping) {
      if (paced) return;
      this.#forced++;
      if (this.#forced === 1) {
        this.#rt.log(`pronghorn: ${signal} again: closing every connection now`);
        for (const w of this.#workers) this.#force(w);
      } else {
        for (const w of this.#workers) w.proc.kill("SIGKILL");
      }
      return;
    }
    this.#stopping = true;
    const pace = paced && this.#opts.spawnIntervalMs > 0 ? `, one worker per ${this.#opts.spawnIntervalMs / 1000} s` : "";
    const n = this.#workers.size;
    this.#rt.log(`pronghorn: ${signal}: stopping gracefully${pace} (${n} worker${n === 1 ? " finishes its" : "s finish their"} requests)`);
    this.#spawnTimer?.cancel();
    this.#spawnTimer = undefined;
    this.#settleTimer?.cancel();
    this.#settleTimer = undefined;
    // Standalone, our copy of each socket closes now, so it closes for good as soon as the workers
    // have stopped accepting: new clients are refused instead of queueing until we exit (Gazelle's
    // shutdown(SHUT_RD), PR #23). Inherited sockets belong to Server::Starter/systemd: left alone.
    for (const l of this.#listeners) if (!l.inherited) l.close();
    if (this.#workers.size === 0) {
      this.#finish(0);
      return;
    }
    for (const w of this.#workers) if (w.state === "starting") this.#retire(w);
    const serving = [...this.#workers].filter((w) => w.state === "ready").sort((a, b) => (a.readyAt ?? 0) - (b.readyAt ?? 0));
    if (!paced || this.#opts.spawnIntervalMs === 0) {
      for (const w of serving) this.#retire(w);
      return;
    }
    const next = () => {
      const w = serving.shift();
      if (w) this.#retire(w);
      if (serving.length > 0) this.#pacedStopTimer = this.#rt.setTimer(this.#opts.spawnIntervalMs, next);
    };
    next();
  }

  #finish(code: number): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#spawnTimer?.cancel();
    this.#pacedStopTimer?.cancel();
    this.#settleTimer?.cancel();
    for (const w of this.#workers) {
      w.deadline?.cancel();
      w.startup?.cancel();
      w.proc.kill("SIGKILL");
    }
    for (const l of this.#listeners) l.close();
    this.#rt.exit(code);
  }
}

/** Bind (or adopt) the listeners and start supervising. A bind error is thrown as one line. */
export async function supervise(rt: SupervisorRuntime, config: Config): Promise<Supervisor> {
  const listeners = await rt.bindListeners(config.listen);
  const sup = new Supervisor(
    rt,
    {
      workers: config.workers,
      spawnIntervalMs: config.spawnIntervalMs,
      gracefulTimeoutMs: config.gracefulTimeoutMs,
      startupTimeoutMs: config.startupTimeoutMs,
      payload: config,
    },
    listeners,
  );
  sup.start();
  return sup;
}
