/**
 * The command line that re-runs this Deno process's entry script as a worker, with the same
 * flags. Deno gives no API for its own flags (`process.execArgv` is []), and node:child_process
 * rewrites `deno script` into `deno run -A ...`, widening a restricted permission set and
 * dropping --unstable-*, --v8-flags, --config and import-map flags. So the flags come from
 * /proc/self/cmdline, passed on verbatim after `run` (child_process leaves an explicit `run`
 * alone). Deno lets a process read /proc only with -A; without it, the flags are rebuilt from
 * Deno.permissions: every permission granted in full becomes its `--allow-NAME`, while an
 * allow-list (`--allow-read=/srv`) and every other flag cannot be recovered (said once on stderr).
 */
import fs from "node:fs";

interface DenoApi {
  execPath(): string;
  mainModule: string;
  args: string[];
  permissions: { querySync(d: { name: string }): { state: string } };
}

const PERMISSIONS = ["read", "write", "net", "env", "sys", "run", "ffi", "import"] as const;

/** `[executable, args]` for spawning a worker. */
export function denoWorkerCommand(deno: DenoApi, log: (line: string) => void): [string, string[]] {
  const exe = deno.execPath();
  try {
    const argv = fs.readFileSync("/proc/self/cmdline", "latin1").split("\0");
    argv.pop(); // the text ends with a NUL
    // argv[0] may be a relative name or a wrapper script: Deno's own path is what to run.
    if (argv.length > 1) return [exe, argv.slice(1)];
  } catch {
    // no -A: rebuild below
  }
  return [exe, ["run", ...permissionFlags(deno, log), deno.mainModule, ...deno.args]];
}

let warned = false;

function permissionFlags(deno: DenoApi, log: (line: string) => void): string[] {
  const flags: string[] = [];
  for (const name of PERMISSIONS) {
    try {
      if (deno.permissions.querySync({ name }).state === "granted") flags.push(`--allow-${name}`);
    } catch {
      // a permission name this Deno does not know
    }
  }
  if (!warned) {
    warned = true;
    log(
      `pronghorn: deno cannot read its own command line without -A; workers run with ` +
        `\`deno run ${flags.join(" ")}${flags.length > 0 ? " " : ""}SCRIPT\` (allow-lists such as --allow-read=DIR ` +
        `and other deno flags cannot be passed on)`,
    );
  }
  return flags;
}
