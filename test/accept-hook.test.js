// The zero-copy accept hook's feature detection (src/runtime/node-net.ts zeroCopyClient), against
// fake server handles shaped like each runtime's: Node passes a stream handle it accepted, Deno's
// shim passes none and leaves the accept to the hook, Bun passes a plain object that cannot be
// wrapped with `onread` (so the original hook must serve it, through plain 'data' events).
// The real paths are covered black-box: test/http-*.test.js on Node and Deno, with and without
// PRONGHORN_NO_ONREAD=1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { zeroCopyClient } from "../dist/runtime/node-net.js";

class StreamHandle {
  readStart() {}
  useUserBuffer() {}
}

test("Node: the accepted stream handle is used as is", () => {
  const client = new StreamHandle();
  const fallback = [];
  assert.equal(zeroCopyClient({ constructor: StreamHandle }, client, (c) => fallback.push(c)), client);
  assert.deepEqual(fallback, []);
});

test("Bun: a client that is not a stream handle goes to the original hook", () => {
  const client = {};
  const fallback = [];
  assert.equal(zeroCopyClient({ constructor: Object }, client, (c) => fallback.push(c)), undefined);
  assert.equal(fallback.length, 1);
  assert.equal(fallback[0], client);
});

test("Deno: no client handle: the hook accepts into a new handle of the server's class", () => {
  const made = [];
  class DenoHandle extends StreamHandle {
    constructor(type) {
      super();
      made.push(type);
    }
  }
  const server = { constructor: DenoHandle, accepted: null, accept(c) { this.accepted = c; return 0; } };
  const fallback = [];
  const client = zeroCopyClient(server, undefined, (c) => fallback.push(c));
  assert.ok(client instanceof DenoHandle);
  assert.equal(server.accepted, client);
  assert.deepEqual(made, [0]);
  assert.deepEqual(fallback, []);
});

test("Deno: a failed accept (another worker took the connection) is nothing to serve", () => {
  const server = { constructor: StreamHandle, accept: () => -11 };
  const fallback = [];
  assert.equal(zeroCopyClient(server, undefined, (c) => fallback.push(c)), undefined);
  assert.deepEqual(fallback, []);
});

// The direct handle path's feature detection (src/runtime/node-handle.ts directStreams): every
// private piece it uses must be there on each Node line the suite runs on (20 in the unit pass,
// 26 in the Node 26 pass), and a handle missing any method it calls is left to net.Socket.
test("Node: directStreams() finds WriteWrap, ShutdownWrap and streamBaseState, and takes a real TCP and pipe handle", async () => {
  const { directStreams } = await import("../dist/runtime/node-handle.js");
  const direct = directStreams();
  assert.ok(direct, `process.binding('stream_wrap') lacks a piece on Node ${process.versions.node}`);
  const { TCP, constants: tcpTypes } = process.binding("tcp_wrap");
  const { Pipe, constants: pipeTypes } = process.binding("pipe_wrap");
  const tcp = new TCP(tcpTypes.SOCKET);
  const pipe = new Pipe(pipeTypes.SOCKET);
  assert.equal(direct.accepts(tcp), true);
  assert.equal(direct.accepts(pipe), true);
  tcp.close();
  pipe.close();
});

test("a handle missing any method the direct path calls is left to net.Socket", async () => {
  const { directStreams } = await import("../dist/runtime/node-handle.js");
  const direct = directStreams();
  const full = { useUserBuffer() {}, readStart() {}, readStop() {}, writeBuffer() {}, writeUtf8String() {}, writev() {}, shutdown() {}, close() {} };
  assert.equal(direct.accepts(full), true);
  for (const name of Object.keys(full)) {
    const { [name]: _, ...partial } = full;
    assert.equal(direct.accepts(partial), false, `without ${name}`);
  }
  assert.equal(direct.accepts(null), false);
  assert.equal(direct.accepts(new StreamHandle()), false);
});
