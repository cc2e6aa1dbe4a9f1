#!/usr/bin/env node
/**
 * The command line: argv -> Config -> the runtime -> the supervisor. The same file is the
 * workers' entry: a process the supervisor spawned finds its WorkerContext and runs the worker
 * instead (so `node`, `bun` and `deno run -A` workers start exactly as the supervisor did).
 * Usage errors print one line and exit 2; errors while binding print one line and exit 1.
 */
import fs from "node:fs";
import { parseConfig, ConfigError } from "./config.js";
import { supervise } from "./supervisor.js";
import { runWorker } from "./worker.js";
import { checkLoadable } from "./app.js";
import { selectRuntime } from "./runtime/select.js";

async function main(): Promise<void> {
  let runtime;
  try {
    runtime = await selectRuntime();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  const ctx = runtime.workerContext();
  if (ctx) return runWorker(runtime, ctx);

  let parsed;
  try {
    parsed = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(err.message + "\n");
    process.exit(2);
  }
  if (parsed.action === "help") {
    process.stdout.write(parsed.text + "\n");
    return;
  }
  if (parsed.action === "version") {
    const pkg = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
    process.stdout.write(`pronghorn ${pkg.version} (${runtime.version})\n`);
    return;
  }
  try {
    // Found now, not by every worker failing in turn: a TypeScript app on a Node that cannot run it.
    if (parsed.config.app !== "") checkLoadable(parsed.config.app);
    await supervise(runtime, parsed.config);
  } catch (err) {
    const message = (err as Error)?.message ?? String(err);
    process.stderr.write((message.startsWith("pronghorn:") ? message : `pronghorn: ${message}`) + "\n");
    process.exit(1);
  }
}

await main();
