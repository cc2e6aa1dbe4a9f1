/**
 * One access-log line per response, without the trailing newline; the worker decides where it
 * goes. The combined log format (Apache's `%h %l %u %t "%r" %>s %b "%{Referer}i"
 * "%{User-agent}i"`), with quotes, backslashes and control bytes in request fields escaped as
 * Apache does (\xhh); or (--access-log-format json) one JSON object per line with the same
 * fields (JSON.stringify escapes what a line must not hold).
 */
import type { RemoteAddr } from "../runtime/runtime.js";
import type { RequestHead } from "./framing.js";
import { logDate } from "./date.js";

const ESCAPE_RE = /[^\x20-\x21\x23-\x5b\x5d-\x7e]/g;

function escape(s: string): string {
  return s.replace(ESCAPE_RE, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

function header(head: RequestHead, lower: string): string {
  const value = rawHeader(head, lower);
  return value === null ? "-" : escape(value);
}

export type AccessLogFormat = "combined" | "json";

function rawHeader(head: RequestHead, lower: string): string | null {
  const h = head.headers;
  for (let i = 0; i < h.length; i += 2) {
    if (h[i]!.length === lower.length && h[i]!.toLowerCase() === lower) return h[i + 1]!;
  }
  return null;
}

function jsonLine(head: RequestHead, peer: RemoteAddr, status: number, bodyBytes: number): string {
  return JSON.stringify({
    time: new Date().toISOString(),
    remote: peer.transport === "unix" || peer.hostname === "" ? null : peer.hostname,
    method: head.method,
    target: head.target,
    protocol: `HTTP/1.${head.minor}`,
    status,
    bytes: bodyBytes,
    referer: rawHeader(head, "referer"),
    user_agent: rawHeader(head, "user-agent"),
  });
}

export function accessLine(format: AccessLogFormat, head: RequestHead, peer: RemoteAddr, status: number, bodyBytes: number): string {
  if (format === "json") return jsonLine(head, peer, status, bodyBytes);
  const host = peer.transport === "unix" || peer.hostname === "" ? "-" : peer.hostname;
  return `${host} - - [${logDate()}] "${escape(head.method)} ${escape(head.target)} HTTP/1.${head.minor}" ` +
    `${status} ${bodyBytes > 0 ? bodyBytes : "-"} "${header(head, "referer")}" "${header(head, "user-agent")}"`;
}
