/**
 * Detect the runtime we are running on and load only its implementation, with `import()`, so a
 * top-level `Bun.` or `Deno.` reference never runs on the wrong runtime.
 */
import type { Runtime, RuntimeName } from "./runtime.js";

export function detectRuntime(): RuntimeName {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  return "node";
}

export async function selectRuntime(): Promise<Runtime> {
  switch (detectRuntime()) {
    case "bun":
      return (await import("./bun.js")).bunRuntime;
    case "deno":
      return (await import("./deno.js")).denoRuntime;
    default:
      return (await import("./node.js")).nodeRuntime;
  }
}
