/**
 * Node's platform Response is undici's, which keeps the body source (the string or bytes a
 * Response was made from) in a symbol slot named "state" (undici 6 and 7). Reading it there
 * saves draining a ReadableStream for a body that is already whole. Found once by probing,
 * used only when present and unread; anything else answers undefined (read the stream).
 */
let stateKey: symbol | null | undefined;

export function undiciBodySource(res: Response): string | Uint8Array | null | undefined {
  if (stateKey === undefined) {
    stateKey = Object.getOwnPropertySymbols(res).find((s) => s.description === "state") ?? null;
  }
  if (stateKey === null || res.bodyUsed) return undefined;
  const body = (res as unknown as Record<symbol, { body?: { source?: unknown; stream?: ReadableStream } | null }>)[stateKey]?.body;
  if (body === null) return null;
  const source = body?.source;
  if ((typeof source === "string" || source instanceof Uint8Array) && !body?.stream?.locked) return source;
  return undefined;
}
