/**
 * One combined-log-format line per response (Apache's `%h %l %u %t "%r" %>s %b "%{Referer}i"
 * "%{User-agent}i"`), without the trailing newline; the worker decides where it goes.
 * Quotes, backslashes and control bytes in request fields are escaped as Apache does (\xhh).
 */
import type { RemoteAddr } from "../runtime/runtime.js";
import type { RequestHead } from "./framing.js";
import { logDate } from "./date.js";

const ESCAPE_RE = /[^\x20-\x21\x23-\x5b\x5d-\x7e]/g;

function escape(s: string): string {
  return s.replace(ESCAPE_RE, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

function header(head: RequestHead, lower: string): string {
  const h = head.headers;
  for (let i = 0; i < h.length; i += 2) {
    if (h[i]!.length === lower.length && h[i]!.toLowerCase() === lower) return escape(h[i + 1]!);
  }
  return "-";
}

export function accessLine(head: RequestHead, peer: RemoteAddr, status: number, bodyBytes: number): string {
  const host = peer.transport === "unix" || peer.hostname === "" ? "-" : peer.hostname;
  return `${host} - - [${logDate()}] "${escape(head.method)} ${escape(head.target)} HTTP/1.${head.minor}" ` +
    `${status} ${bodyBytes > 0 ? bodyBytes : "-"} "${header(head, "referer")}" "${header(head, "user-agent")}"`;
}
