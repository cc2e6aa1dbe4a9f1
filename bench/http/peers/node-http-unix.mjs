// node:http on a unix socket (for nginx.mjs): the raw (req, res) twin of bench/http/app.mjs,
// as in ../node-http.mjs, listening on the path given as the first argument.
import http from "node:http";
import fs from "node:fs";

const file = process.argv[2];
if (!file) throw new Error("usage: node node-http-unix.mjs /path/to.sock");
fs.rmSync(file, { force: true });
const server = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/plain;charset=UTF-8", "content-length": "13" });
  res.end("Hello, World!");
});
server.listen(file, () => console.log(`ready unix:${file}`));
