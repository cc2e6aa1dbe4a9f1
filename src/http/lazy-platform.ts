/**
 * The trick behind the lazy Request and the lightweight Response: a class of our own whose
 * prototype chains to the platform's, so `instanceof` holds, and whose every platform member it
 * does not define itself is forwarded to a real platform object built on first use. Both classes
 * call this once, at module load; nothing here runs per request.
 */

/** Forward every getter and method of `native` that `proto` lacks to `materialize(this)`. */
export function forwardToPlatform(proto: object, native: object, materialize: (self: object) => object): void {
  Object.setPrototypeOf(proto, native);
  for (const key of Reflect.ownKeys(native)) {
    if (key === "constructor" || key === Symbol.toStringTag || Object.hasOwn(proto, key)) continue;
    const d = Object.getOwnPropertyDescriptor(native, key)!;
    if (d.get !== undefined) {
      Object.defineProperty(proto, key, {
        configurable: true, enumerable: d.enumerable,
        get(this: object) {
          return (materialize(this) as Record<PropertyKey, unknown>)[key];
        },
      });
    } else if (typeof d.value === "function") {
      Object.defineProperty(proto, key, {
        configurable: true, enumerable: d.enumerable, writable: true,
        value(this: object, ...args: unknown[]) {
          return (materialize(this) as Record<PropertyKey, (...a: unknown[]) => unknown>)[key]!(...args);
        },
      });
    }
  }
}
