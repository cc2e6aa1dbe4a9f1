// Bun's own server serving bench/http/app.mjs: the strongest Bun peer.
import app from "./app.mjs";

const server = Bun.serve({ fetch: app.fetch, port: Number(process.argv[2] ?? 0), hostname: "127.0.0.1" });
console.log(`ready ${server.port}`);
