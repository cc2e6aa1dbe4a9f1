// Apps written in TypeScript (README.md "The app", "Options": APP defaults to ./app.ts, ./app.js,
// ./app.mjs, the first found relative to the working directory). Bun and Deno run TypeScript
// themselves and Node strips types from 22.18 and 23.6 on, so there an app.ts with real type
// annotations (importing another .ts module) is served as the default app, ahead of an app.js
// beside it. Node 20 cannot import .ts at all: the server must refuse in one line that says why
// and what to do, and exit 1, instead of a crash loop of worker stack traces.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { RUNTIME, runtimeRunsTypeScript, startServer, rawExchange, splitResponses, runCli, tmpdir } from "./harness.js";

const APP_TS = `import { greet, type Greeting } from "./greet.ts";

interface WorkerInfo { id: number; pid: number; generation: number }
interface ServeInfo { worker: WorkerInfo }
type Handler = (request: Request, info: ServeInfo) => Response;

const fetch: Handler = (request: Request, info: ServeInfo): Response => {
  const greeting: Greeting = greet(new URL(request.url).pathname.slice(1) || "world");
  return new Response(\`\${greeting.text} from app.ts, worker \${info.worker.id}\`, { headers: { "x-typed": String(greeting.length) } });
};

export default { fetch } satisfies { fetch: Handler };
`;

const GREET_TS = `export interface Greeting { text: string; length: number }
export function greet<T extends string>(name: T): Greeting {
  const text: string = "hello " + (name as string);
  return { text, length: text.length };
}
`;

/** A directory holding app.ts (and greet.ts), and an app.js that must not be chosen over it. */
function project() {
  const dir = tmpdir("pronghorn-ts-");
  fs.writeFileSync(path.join(dir, "app.ts"), APP_TS);
  fs.writeFileSync(path.join(dir, "greet.ts"), GREET_TS);
  fs.writeFileSync(path.join(dir, "app.js"), `export default { fetch: () => new Response("from app.js") };\n`);
  return dir;
}

const where = RUNTIME === "node" ? `Node ${process.versions.node}` : RUNTIME;
const ARGS = ["--workers", "1", "--host", "127.0.0.1", "--port", "0", "-E", "production"];

if (runtimeRunsTypeScript()) {
  test(`${where}: ./app.ts with type annotations is the default app (ahead of ./app.js) and is served`, async (t) => {
    const server = await startServer(ARGS, { cwd: project() });
    t.after(() => server.stop("SIGKILL"));
    const r = await rawExchange(server, "GET /types HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    const [res] = splitResponses(r.text);
    assert.equal(res?.status, 200, r.text);
    assert.equal(res.body, "hello types from app.ts, worker 1");
    assert.deepEqual(res.headers["x-typed"], ["11"]);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });
} else {
  test(`${where}: ./app.ts is refused in one line that says why and what to do, exit 1`, async () => {
    const r = await runCli(ARGS, { cwd: project(), timeoutMs: 20000 });
    const lines = r.out.trim().split("\n");
    assert.equal(r.code, 1, r.out);
    assert.equal(lines.length, 1, `one line expected:\n${r.out}`);
    assert.match(lines[0], /^pronghorn: /);
    assert.match(lines[0], /TypeScript/, "says the app is TypeScript");
    assert.match(lines[0], /Node/, "says this Node cannot run it");
    assert.match(lines[0], /22\.18|24|Bun|Deno|compile|\.js\b/, "says what to do instead");
  });
}
