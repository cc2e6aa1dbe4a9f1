/**
 * How a worker and its supervisor find each other, through the `process` global that Node, Bun
 * and Deno share: the WorkerContext travels as JSON in one environment variable of the child
 * (read once and removed, so processes the app starts are not mistaken for workers), messages
 * over the IPC channel, and the worker's own signals.
 */
import type { Signal, SupervisorMessage, WorkerContext, WorkerMessage } from "./runtime.js";

const WORKER_ENV = "PRONGHORN_WORKER";

/** The child's environment: ours, plus the context, minus systemd's variables, which describe
 *  the supervisor's fds (sd_listen_fds(3) says to unset them). */
export function workerEnv(ctx: WorkerContext): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  env[WORKER_ENV] = JSON.stringify(ctx);
  return env;
}

let context: WorkerContext | undefined | null = null;

/** This process's context; undefined unless it was spawned as a worker with an IPC channel. */
export function readWorkerContext(): WorkerContext | undefined {
  if (context === null) {
    const raw = process.env[WORKER_ENV];
    delete process.env[WORKER_ENV];
    context = raw !== undefined && typeof process.send === "function" ? (JSON.parse(raw) as WorkerContext) : undefined;
  }
  return context;
}

/** The runtime's own message, supervisor -> worker, for runtimes that hand listeners over "ipc":
 *  listener `index`, with its server handle attached. */
export const LISTENER_MESSAGE = "pronghorn:listener";
export interface ListenerMessage {
  type: typeof LISTENER_MESSAGE;
  index: number;
}

const handles = new Map<number, object | null>();
const waiting = new Map<number, (handle: object | null) => void>();
let collecting = false;

/** Keep the listener handles the supervisor sends right after the spawn. Call it before anything
 *  else listens for messages: the channel delivers what it holds to the first listener. */
export function collectListeners(): void {
  if (collecting) return;
  collecting = true;
  process.on("message", (m: ListenerMessage, handle: unknown) => {
    if (m?.type !== LISTENER_MESSAGE) return;
    const h = handle && typeof handle === "object" ? handle : null;
    const resolve = waiting.get(m.index);
    if (resolve) {
      waiting.delete(m.index);
      resolve(h);
    } else handles.set(m.index, h);
  });
}

/** The server handle of listener `index`, once it arrived; null (an error) if the channel closed
 *  first: a supervisor that died between the spawn and the handle must not leave the worker
 *  waiting for ever (a stop waits for the listeners before it exits). */
export async function handedListener(index: number): Promise<object> {
  collectListeners();
  const h = handles.has(index)
    ? handles.get(index)!
    : await new Promise<object | null>((resolve) => {
      const gone = () => resolve(null);
      if (!process.connected) return gone();
      process.once("disconnect", gone);
      waiting.set(index, (handle) => {
        process.off("disconnect", gone);
        resolve(handle);
      });
    });
  handles.delete(index);
  if (h === null) throw new Error(`pronghorn: the supervisor did not hand over listener ${index}`);
  return h;
}

/** Listen to the supervisor; `gone` fires when the IPC channel closes (the supervisor died). */
export function connectSupervisor(events: { message(m: SupervisorMessage): void; gone(): void }): (m: WorkerMessage, sent?: () => void) => void {
  process.on("message", (m: SupervisorMessage | ListenerMessage) => {
    if (m?.type !== LISTENER_MESSAGE && typeof m?.type === "string") events.message(m);
  });
  process.on("disconnect", () => events.gone());
  // A supervisor that died before this listener existed left no event behind: without this
  // check the worker would go on to listen and serve as an orphan.
  if (!process.connected) setImmediate(() => events.gone());
  return (m, sent) => {
    if (!process.connected) sent?.();
    // An error (the channel closed meanwhile) means the same: nobody is left to tell.
    else if (sent) process.send!(m, undefined, undefined, () => sent());
    else process.send!(m);
  };
}

/** TERM, INT and QUIT sent to the worker itself, and USR2 (`systemctl kill -s USR2` reaches every
 *  process of the unit: its default action would end the worker); reload and paced stop are the
 *  supervisor's, so a stray HUP or USR1 must not kill a worker. */
export function onWorkerSignal(handler: (signal: Signal) => void): void {
  for (const s of ["SIGTERM", "SIGINT", "SIGQUIT", "SIGUSR2"] as const) process.on(s, () => handler(s));
  for (const s of ["SIGHUP", "SIGUSR1"] as const) process.on(s, () => {});
}

/** The supervisor's signals: every one is policy, none keeps its default action. */
export function onSupervisorSignal(handler: (signal: Signal) => void): void {
  for (const s of ["SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2"] as const) process.on(s, () => handler(s));
}
