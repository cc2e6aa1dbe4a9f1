// Deno's own server serving bench/http/app.mjs: the strongest Deno peer.
import app from "./app.mjs";

Deno.serve(
  { port: Number(Deno.args[0] ?? 0), hostname: "127.0.0.1", onListen: ({ port }) => console.log(`ready ${port}`) },
  app.fetch,
);
