// The npm package as a user gets it: `npm pack` (of the built dist/), installed from the tarball
// into an empty project (offline: it has no dependencies), then started the way the README says
// on the runtime under test: `npx pronghorn app.js` (Node), `bun x --bun pronghorn app.ts` (Bun),
// `deno run -A npm:pronghorn app.ts` (Deno, from the project's node_modules); and the
// programmatic `import { serve, type ServeInfo } from "pronghorn"` from a TypeScript entry script,
// which also type-checks against the package's types under moduleResolution node16 and bundler.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { ROOT, RUNTIME, RUNTIME_LABEL, startServer, tmpdir, runtimeBinary, runtimeRunsTypeScript, get } from "./harness.js";

const LOCAL = ["--workers", "1", "-E", "production", "--host", "127.0.0.1", "--port", "0"];
let project; // the temp project with pronghorn installed from the tarball
let files; // the tarball's file list

function run(cmd, args, opts) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 120_000, ...opts });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.error ?? ""}${r.stderr}${r.stdout}`);
  return r.stdout;
}

before(async () => {
  const packs = tmpdir("pronghorn-pack-");
  // --ignore-scripts: pack the dist/ that is built (prepare would rebuild it in the working tree).
  const [info] = JSON.parse(run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", packs], { cwd: ROOT }));
  files = info.files.map((f) => f.path);
  project = tmpdir("pronghorn-user-");
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "user-app", private: true, type: "module" }, null, 2));
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", path.join(packs, info.filename)], { cwd: project });
  fs.writeFileSync(path.join(project, "app.js"), 'export default { fetch: (request, info) => new Response(`packaged ${new URL(request.url).pathname} from worker ${info.worker.id}`) };\n');
  fs.writeFileSync(path.join(project, "app.ts"), 'import type { ServeInfo } from "pronghorn";\nexport default { fetch: (request: Request, info: ServeInfo): Response => new Response(`packaged ${new URL(request.url).pathname} from worker ${info.worker.id}`) };\n');
  fs.writeFileSync(path.join(project, "serve.ts"), `import { serve, type ServeInfo } from "pronghorn";

await serve({
  host: "127.0.0.1",
  port: 0,
  workers: 1,
  env: "production",
  fetch(request: Request, info: ServeInfo): Response {
    return new Response(\`serve() \${new URL(request.url).pathname} from \${info.remoteAddr.transport}, worker \${info.worker.id}\`);
  },
});
`);
});

/** A GET's status and body. */
async function statusAndBody(server, target) {
  const { status, body } = await get(server, target);
  return { status, body };
}

test("the tarball holds dist/ with its types, the bin and the examples, and nothing from the repository's tests or sources", () => {
  for (const f of ["package.json", "README.md", "dist/cli.js", "dist/index.js", "dist/index.d.ts", "dist/http/server.d.ts", "examples/hello.js"]) {
    assert.ok(files.includes(f), `${f} is in the package`);
  }
  assert.deepEqual(files.filter((f) => /(^|\/)(node_modules|test|src)\//.test(f) && !f.startsWith("wasm/src/")), []);
  const pkg = JSON.parse(fs.readFileSync(path.join(project, "node_modules", "pronghorn", "package.json"), "utf8"));
  assert.deepEqual(pkg.bin, { pronghorn: "dist/cli.js" });
  assert.deepEqual(pkg.exports["."], { types: "./dist/index.d.ts", default: "./dist/index.js" });
  assert.equal(pkg.dependencies, undefined, "no runtime dependencies");
  const require = createRequire(path.join(project, "index.js"));
  assert.equal(require.resolve("pronghorn/package.json"), path.join(project, "node_modules", "pronghorn", "package.json"));
  assert.match(fs.readFileSync(path.join(project, "node_modules", "pronghorn", "dist", "cli.js"), "utf8"), /^#!\/usr\/bin\/env node\n/);
});

/** A process's descendants, parents first (from /proc; Linux only). */
function descendants(pid) {
  let children = [];
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {}
  return children.flatMap((c) => [c, ...descendants(c)]);
}

const cmdline = (pid) => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
};

/** The command a user types in the project, on the runtime under test. */
function binCommand(app) {
  switch (RUNTIME) {
    case "node": return ["npx", ["pronghorn", ...LOCAL, app]];
    // Plain `bunx pronghorn` follows the bin's `#!/usr/bin/env node`; --bun runs it on Bun.
    case "bun": return [runtimeBinary("bun"), ["x", "--bun", "pronghorn", ...LOCAL, app]];
    // Deno resolves npm:pronghorn from the project's package.json and node_modules, no registry.
    case "deno": return [runtimeBinary("deno"), ["run", "-A", "npm:pronghorn", ...LOCAL, app]];
  }
}

test(`the bin, as a user types it on ${RUNTIME}, serves an app`, { timeout: 60_000 }, async (t) => {
  const app = RUNTIME === "node" ? "app.js" : "app.ts";
  const [cmd, argv] = binCommand(app);
  // npx runs the bin on the first node on PATH: make that the node running this test.
  const env = RUNTIME === "node" ? { PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}` } : {};
  const server = await startServer([], { cwd: project, env, wrap: () => [cmd, argv], timeoutMs: 40_000 });
  t.after(() => server.stop("SIGKILL"));
  assert.match(server.output(), new RegExp(`accepting connections at http://127\\.0\\.0\\.1:\\d+/ \\(${RUNTIME_LABEL}, 1 worker\\)`));
  assert.deepEqual(await statusAndBody(server, "/pkg"), { status: 200, body: "packaged /pkg from worker 1" });
  if (RUNTIME === "node") {
    // npx runs the bin through `sh -c`: a TERM to npx ends npm and sh and leaves pronghorn
    // running. So signal pronghorn's supervisor itself; npx then exits with its status.
    const supervisor = descendants(server.pid).find((pid) => /node_modules\/\.bin\/pronghorn/.test(cmdline(pid)));
    assert.ok(supervisor, "pronghorn runs under npx");
    process.kill(supervisor, "SIGTERM");
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  } else {
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  }
  assert.match(server.output(), /SIGTERM: stopping gracefully/);
});

const noTypeScript = runtimeRunsTypeScript() ? false : `node ${process.versions.node} cannot run TypeScript`;

test(`import { serve, type ServeInfo } from "pronghorn" in a TypeScript script runs on ${RUNTIME}`, { skip: noTypeScript, timeout: 60_000 }, async (t) => {
  const server = await startServer([], { cwd: project, script: path.join(project, "serve.ts"), timeoutMs: 40_000 });
  t.after(() => server.stop("SIGKILL"));
  assert.match(server.output(), new RegExp(`\\(${RUNTIME_LABEL}, 1 worker\\)`));
  assert.deepEqual(await statusAndBody(server, "/api"), { status: 200, body: "serve() /api from tcp, worker 1" });
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

// tsc is the same on every runtime: checked in the Node passes only.
test("the package's types check under moduleResolution node16 and bundler (tsc --noEmit, no @types/node)", { skip: RUNTIME === "node" ? false : "tsc runs in the Node passes", timeout: 60_000 }, () => {
  const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const base = { target: "es2022", strict: true, noEmit: true, lib: ["es2022", "dom"], types: [], skipLibCheck: false };
  // node16, with a file that uses the types wrongly: exactly that one error, so the types are
  // really there (not `any`) and nothing else fails; then bundler.
  fs.writeFileSync(path.join(project, "bad.ts"), 'import type { ServeInfo } from "pronghorn";\nexport const f = (info: ServeInfo): string => info.nope;\n');
  const configs = { node16: { module: "node16", moduleResolution: "node16" }, bundler: { module: "preserve", moduleResolution: "bundler" } };
  for (const [name, options] of Object.entries(configs)) {
    const list = name === "node16" ? ["serve.ts", "app.ts", "bad.ts"] : ["serve.ts", "app.ts"];
    fs.writeFileSync(path.join(project, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions: { ...base, ...options }, files: list }));
  }
  const bad = spawnSync(process.execPath, [tsc, "-p", "tsconfig.node16.json"], { cwd: project, encoding: "utf8" });
  assert.equal(bad.stdout.trim().split("\n").length, 1, bad.stdout);
  assert.equal(bad.status, 2);
  assert.match(bad.stdout, /^bad\.ts\(2,\d+\): error TS2339: Property 'nope' does not exist on type 'ServeInfo'/);
  run(process.execPath, [tsc, "-p", "tsconfig.bundler.json"], { cwd: project });
});
