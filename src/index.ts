/**
 * The programmatic API: `serve({ fetch, ...options })`, the CLI's options in camelCase with the
 * CLI's units (seconds, bytes). The calling script is the workers' entry too: in the supervisor
 * `serve()` binds and forks workers that re-run the script; in a worker the same `serve()` call
 * serves with the `fetch` it was given. So keep side effects before `serve()` cheap.
 */
import { parseConfig, OPTIONS, ConfigError, type OptionSpec, type OptionValues } from "./config.js";
import { supervise } from "./supervisor.js";
import { runWorker } from "./worker.js";
import { toFetchHandler } from "./app.js";
import { selectRuntime } from "./runtime/select.js";
import type { FetchHandler } from "./http/server.js";

export type { FetchHandler, ServeInfo } from "./http/server.js";
export type { RemoteAddr } from "./runtime/runtime.js";
export { ConfigError } from "./config.js";

/**
 * Options of {@link serve}: the CLI's, camelCased (`--max-reqs-per-child` is `maxReqsPerChild`),
 * in the CLI's units (seconds, bytes), with the CLI's defaults. Their names, types, defaults and
 * bounds are the option table's (`OPTIONS` in config.ts; `pronghorn --help` prints it).
 */
export type ServeOptions = OptionValues & {
  /** The fetch handler (or pass an object with a `fetch` method as the options themselves). */
  fetch: FetchHandler;
};

/**
 * Start pronghorn with a fetch handler given in code.
 *
 * @example
 * ```ts
 * import { serve } from "pronghorn";
 * serve({ port: 8080, workers: 4, fetch: (req) => new Response(`hello ${new URL(req.url).pathname}`) });
 * ```
 * Resolves once the supervisor has bound its listeners and started the workers (in a worker:
 * once it serves). Rejects with a {@link ConfigError} (code `PRONGHORN_BAD_OPTION`) on a bad option.
 */
export async function serve(options: ServeOptions): Promise<void> {
  const fetch = toFetchHandler(options, "serve()");
  const runtime = await selectRuntime();
  const ctx = runtime.workerContext();
  if (ctx) return runWorker(runtime, ctx, fetch);
  const parsed = parseConfig(optionsToArgv(options as Record<string, unknown>), process.env, { appInCode: true });
  if (parsed.action !== "serve") throw new Error("unreachable: serve() options never ask for help");
  await supervise(runtime, parsed.config);
}

/** camelCase options -> CLI arguments, so one table validates both. */
export function optionsToArgv(options: Record<string, unknown>): string[] {
  const byKey = new Map<string, OptionSpec>(OPTIONS.flatMap((o: OptionSpec) => (o.key ? [[o.key, o]] : [])));
  const argv: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (key === "fetch" || value === undefined) continue;
    const spec = byKey.get(key);
    if (!spec) throw new ConfigError(`unknown option "${key}" (see --help)`);
    for (const v of Array.isArray(value) ? value : [value]) argv.push(`--${spec.long}`, String(v));
  }
  return argv;
}
