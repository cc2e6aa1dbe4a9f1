/**
 * Every response head the server formats: the final head of an app's response (status line, the
 * app's header lines, Date, then the framing and connection lines the plan chose), the complete
 * error responses it sends on its own (a status and a short plain-text reason, then the
 * connection closes), and 1xx heads (100 Continue; 103 Early Hints and the like for
 * ServeInfo.informational()). Strings only: writing them is the connection's job.
 */
import { httpDate } from "./date.js";
import { reasonPhrase, statusLine } from "./status.js";
import type { ResponseParts } from "./app-response.js";

export const CONTINUE_100 = "HTTP/1.1 100 Continue\r\n\r\n";

/** The head for `p`: status line, the app's headers, Date, then framing and connection lines. */
export function finalHead(p: ResponseParts, framing: string, connection: string): string {
  const line = p.statusText === "" ? statusLine(p.status) : `HTTP/1.1 ${p.status} ${p.statusText}\r\n`;
  return p.hasDate
    ? `${line}${p.lines}${framing}${connection}\r\n`
    : `${line}${p.lines}date: ${httpDate()}\r\n${framing}${connection}\r\n`;
}

const ERROR_HEADS: string[] = [];

/** A complete error response that closes the connection, e.g. `400 Bad Request`. */
export function errorResponse(status: number): string {
  const body = `${status} ${reasonPhrase(status)}\n`;
  const fixed = ERROR_HEADS[status] ??= `${statusLine(status)}content-type: text/plain; charset=utf-8\r\n` +
    `content-length: ${body.length}\r\nconnection: close\r\n`;
  return `${fixed}date: ${httpDate()}\r\n\r\n${body}`;
}

const CRLF_RE = /[\r\n\0]/;

/** `HTTP/1.1 103 Early Hints` plus the given headers (validated like response headers). */
export function informationalHead(status: number, headers?: HeadersInit): string {
  let text = statusLine(status);
  if (headers !== undefined) {
    for (const [name, value] of new Headers(headers)) {
      if (CRLF_RE.test(value)) throw new TypeError(`pronghorn: informational header ${name} has CR, LF or NUL in its value`);
      text += `${name}: ${value}\r\n`;
    }
  }
  return `${text}\r\n`;
}
