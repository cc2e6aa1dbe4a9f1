/**
 * Loading user modules: the app (normalised to a fetch handler) and the --child-exit hook.
 * An app module's default export is `{ fetch(request, info) }` (Bun, Deno, Workers, Hono) or a
 * bare `(request, info) => Response`; anything else is one clear error naming the file and
 * what it exported. Each worker process imports the app afresh, which is what makes HUP a reload.
 */
import { pathToFileURL } from "node:url";
import type { FetchHandler } from "./http/server.js";
import { detectRuntime } from "./runtime/select.js";

/** The module could not be used as an app or hook; `message` is one line for the log. */
export class AppError extends Error {
  readonly code = "PRONGHORN_BAD_APP";
  constructor(message: string) {
    super(message);
    this.name = "AppError";
  }
}

export async function loadApp(file: string): Promise<FetchHandler> {
  checkLoadable(file);
  const mod = await importModule(file);
  return toFetchHandler(mod.default, file);
}

/** import() a user module. Bun reports a syntax error as a "BuildMessage" with no stack and the
 *  place in `.position`; it is rethrown as the SyntaxError Node and Deno throw, with the place. */
async function importModule(file: string): Promise<{ default?: unknown }> {
  try {
    return (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    const e = err as { name?: unknown; message?: string; position?: { file?: string; line?: number; column?: number } | null };
    if (e?.name !== "BuildMessage" || !e.position) throw err;
    const where = `${e.position.file ?? file}:${e.position.line}:${e.position.column}`;
    const syntax = new SyntaxError(e.message);
    syntax.stack = `SyntaxError: ${e.message}\n    at ${where}`;
    throw syntax;
  }
}

/**
 * Refuse, in one line, a module this process cannot import: a TypeScript app on a Node that
 * does not strip types (Node 20; Node 22 before 22.18 without --experimental-strip-types).
 * Bun and Deno run TypeScript as it is; Node reports type stripping in process.features.
 */
export function checkLoadable(file: string): void {
  if (!/\.[mc]?ts$/.test(file)) return;
  if (detectRuntime() !== "node") return;
  const features = process.features as { typescript?: string | false };
  if (features.typescript) return;
  throw new AppError(
    `pronghorn: ${file}: Node ${process.versions.node} cannot run TypeScript; use Node 22.18 or later (24, 26), Bun or Deno, or compile the app to JavaScript`,
  );
}

/** `{ fetch }` (method kept bound to its object, so a Hono app works) or a bare function. */
export function toFetchHandler(value: unknown, where: string): FetchHandler {
  if (typeof value === "function") return value as FetchHandler;
  if (typeof value === "object" && value !== null && typeof (value as { fetch?: unknown }).fetch === "function") {
    const app = value as { fetch: FetchHandler };
    return app.fetch.bind(app);
  }
  throw new AppError(
    `pronghorn: ${where}: the default export must be { fetch(request, info) } or a function, got ${describe(value)}`,
  );
}

export type ChildExitHook = (info: { worker: { id: number; pid: number; generation: number }; reason: string }) => unknown;

/** The --child-exit module: its default export must be a function. */
export async function loadChildExit(file: string): Promise<ChildExitHook> {
  const mod = await importModule(file);
  if (typeof mod.default !== "function") {
    throw new AppError(`pronghorn: --child-exit ${file}: the default export must be a function, got ${describe(mod.default)}`);
  }
  return mod.default as ChildExitHook;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing (no default export)";
  if (value === null) return "null";
  if (typeof value === "object") return `an object with keys [${Object.keys(value).join(", ")}]`;
  return `a ${typeof value}`;
}
