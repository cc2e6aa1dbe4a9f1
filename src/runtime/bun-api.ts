/**
 * The part of Bun's API that src/runtime/bun*.ts use, typed here because the project builds
 * against @types/node only (no bun-types). Declared as exported interfaces, not as a global
 * `Bun`, so nothing outside runtime/bun*.ts can reach Bun by accident.
 */

/** One accepted connection of `Bun.listen` (Bun's `Socket<Data>`). */
export interface BunSocket<Data> {
  data: Data;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** One send(2); returns the bytes the kernel took (0 when it took none). Buffers nothing. */
  write(data: string | Uint8Array): number;
  /** Closes at once (no FIN-then-read); unsent bytes of ours are dropped. */
  end(): void;
  /** No argument: shutdown(SHUT_WR), a FIN while reads go on (1.4.5; `true`, documented as the
   *  write-side half-close, sends no FIN there). */
  shutdown(halfClose?: boolean): void;
  /** SO_LINGER 0, then close(2): the peer gets RST. */
  terminate(): void;
  pause(): void;
  resume(): void;
}

export interface BunSocketHandlers<Data> {
  open?(socket: BunSocket<Data>): void;
  data?(socket: BunSocket<Data>, chunk: Uint8Array): void;
  drain?(socket: BunSocket<Data>): void;
  /** The peer sent FIN (only with allowHalfOpen does the socket stay writable). */
  end?(socket: BunSocket<Data>): void;
  close?(socket: BunSocket<Data>, error?: Error): void;
  /** An exception thrown by one of these handlers lands here. */
  error?(socket: BunSocket<Data>, error: Error): void;
}

export interface BunListener {
  readonly fd: number;
  stop(closeActiveConnections?: boolean): void;
}

export interface BunSubprocess {
  readonly pid: number;
  readonly exitCode: number | null;
  send(message: unknown): void;
  kill(signal?: string | number): void;
}

export interface BunSpawnOptions {
  stdio: (string | number)[];
  env: Record<string, string | undefined>;
  serialization: "json" | "advanced";
  ipc(message: unknown, subprocess: BunSubprocess): void;
  onExit(subprocess: BunSubprocess, exitCode: number | null, signalCode: string | null, error?: Error): void;
}

export interface BunApi {
  readonly version: string;
  listen<Data>(options: { fd: number; allowHalfOpen: boolean; socket: BunSocketHandlers<Data> }): BunListener;
  spawn(cmd: string[], options: BunSpawnOptions): BunSubprocess;
}

/** `bun:ffi`, loaded with import() so that no other runtime ever resolves the specifier. */
export interface BunFfi {
  dlopen<S>(path: string, symbols: Record<keyof S, { args: string[]; returns: string }>): { symbols: S };
  read: { i32(pointer: number, byteOffset?: number): number };
}
