/**
 * Byte <-> string conversions that the web platform lacks: latin1 decoding (TextDecoder's
 * "latin1" is windows-1252, which maps 0x80-0x9F elsewhere) and base64 decoding at native
 * speed. node:buffer provides both on Node, Bun and Deno alike.
 */
import { Buffer } from "node:buffer";

/** The bytes a base64 text encodes. */
export function base64Bytes(text: string): Uint8Array<ArrayBuffer> {
  return Buffer.from(text, "base64");
}

/** A latin1 decoder over one ArrayBuffer (no copy of the memory): decode(start, end). */
export function latin1Decoder(memory: ArrayBuffer): (start: number, end: number) => string {
  const view = Buffer.from(memory) as Buffer & { latin1Slice?: (start: number, end: number) => string };
  // latin1Slice is what toString("latin1") calls after looking the encoding up by name (Node's
  // lib/buffer.js; Bun and Deno have it too): called directly, once per request head.
  if (typeof view.latin1Slice === "function") return (start, end) => view.latin1Slice!(start, end);
  return (start, end) => view.toString("latin1", start, end);
}
