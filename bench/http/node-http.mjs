// The strongest Node peer: a raw node:http (req, res) hello world, no fetch objects at all.
import http from "node:http";

const server = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/plain;charset=UTF-8", "content-length": "13" });
  res.end("Hello, World!");
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => console.log(`ready ${server.address().port}`));
