// A Hono app, served by pronghorn as it is: `export default app` is `{ fetch(request, env) }`,
// and pronghorn passes its ServeInfo as Hono's `env` (`c.env`), so `c.env.worker`,
// `c.env.retire()` and `c.env.informational()` are there too.
//
//   npm install && npx pronghorn app.ts            # Node 22.18+ (24, 26)
//   bun x --bun pronghorn app.ts                   # Bun
//   deno run -A npm:pronghorn app.ts               # Deno
import { Hono, type Context } from "hono";
import type { ConnInfo } from "hono/conninfo";
import type { ServeInfo } from "pronghorn";

type Env = { Bindings: ServeInfo };

// Hono's own getConnInfo for Deno (hono/deno) reads c.env.remoteAddr and the one for Bun
// (hono/bun) calls c.env.requestIP(): pronghorn's info has both, so they work unchanged. Each of
// those modules loads only on its own runtime; on Node the same few lines as hono/deno's do it
// (@hono/node-server's reads a node:http request, which pronghorn does not have).
const getConnInfo: (c: Context<Env>) => ConnInfo =
  "Deno" in globalThis ? (await import("hono/deno")).getConnInfo
  : "Bun" in globalThis ? (await import("hono/bun")).getConnInfo
  : (c) => ({ remote: { address: c.env.remoteAddr.hostname, port: c.env.remoteAddr.port, transport: c.env.remoteAddr.transport } });

const app = new Hono<Env>();

app.get("/", (c) => c.text(`Hello Hono! (worker ${c.env.worker.id})`));

app.get("/whoami", (c) => {
  const { remote } = getConnInfo(c);
  return c.json({ address: remote.address, port: remote.port, worker: c.env.worker.id });
});

app.get("/users/:id", (c) => c.json({ id: c.req.param("id"), q: c.req.query("q") ?? null }));

app.post("/echo", async (c) => c.json(await c.req.json()));

export default app;
