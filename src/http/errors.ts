/**
 * The fixed responses the server writes on its own: protocol errors (a status and a short
 * plain-text reason, then the connection closes), the app-failure 500, and 1xx heads for
 * ServeInfo.informational().
 */
import { httpDate } from "./date.js";
import { reasonPhrase, statusLine } from "./status.js";
import { FastResponse } from "./fast-response.js";

const HEADS: string[] = [];

/** A complete error response that closes the connection, e.g. `400 Bad Request`. */
export function errorHead(status: number): string {
  const body = `${status} ${reasonPhrase(status)}\n`;
  const fixed = HEADS[status] ??= `${statusLine(status)}content-type: text/plain; charset=utf-8\r\n` +
    `content-length: ${body.length}\r\nconnection: close\r\n`;
  return `${fixed}date: ${httpDate()}\r\n\r\n${body}`;
}

/** The response for an app that threw or returned something that is not a Response. */
export function appErrorResponse(status: number, text?: string): Response {
  return new FastResponse(text ?? `${status} ${reasonPhrase(status)}\n`, {
    status, headers: { "content-type": "text/plain; charset=utf-8" },
  }) as unknown as Response;
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
