/**
 * The access log sink: lines appended to a file (`-` = stderr), batched per tick so a busy worker
 * makes one write(2) per tick at most instead of one per request.
 *
 * To a file, the writes are asynchronous (fs.write, which the runtime runs off the event loop: on
 * libuv's thread pool, Bun's and Deno's own), one batch in flight at a time, the lines of later
 * ticks joined meanwhile: a slow or stalled disk (a full pipe, an NFS hiccup) then delays the log,
 * never the requests. What waits is bounded by MAX_PENDING_CHARS; beyond it lines are dropped and
 * counted, and one line on stderr says how many once the file takes writes again. reopen() opens
 * the path afresh after the batch in flight (logrotate moved the old file away); what is still
 * pending at exit is written synchronously.
 *
 * To stderr (`-`), each batch is one process.stderr.write, which Node performs synchronously on
 * files and pipes (and so do Bun and Deno): as fast as whoever reads the server's stderr.
 */
import fs from "node:fs";
import type { LogSink } from "./runtime.js";

/** Lines waiting while a write is in flight, at most this many characters (about 16 MB). */
export const MAX_PENDING_CHARS = 16 * 1024 * 1024;

export function openLog(path: string): LogSink {
  return path === "-" ? stderrLog() : fileLog(path);
}

function stderrLog(): LogSink {
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join("\n") + "\n";
    pending = [];
    process.stderr.write(text);
  };
  process.on("exit", flush);
  return {
    write(line) {
      if (pending.push(line) === 1) setImmediate(flush);
    },
    reopen() {},
  };
}

function fileLog(path: string): LogSink {
  let fd = fs.openSync(path, "a");
  let pending: string[] = [];
  let pendingChars = 0;
  let writing = false;
  let scheduled = false;
  let reopen = false;
  let dropped = 0;
  let failed = "";

  const note = (line: string) => process.stderr.write(`pronghorn: access log ${path}: ${line}\n`);

  const pump = () => {
    scheduled = false;
    if (writing) return;
    if (reopen) {
      reopen = false;
      try {
        const next = fs.openSync(path, "a");
        const old = fd;
        fd = next;
        fs.close(old, () => {});
        failed = "";
      } catch (err) {
        note(`cannot reopen it (${(err as Error).message}); writing on to the old file`);
      }
    }
    if (pending.length === 0) return;
    const bytes = Buffer.from(pending.join("\n") + "\n");
    pending = [];
    pendingChars = 0;
    writing = true;
    const target = fd;
    const writeFrom = (off: number) => {
      fs.write(target, bytes, off, bytes.length - off, null, (err, n) => {
        if (err) {
          // Reported once per kind of failure (a full disk repeats on every batch).
          if (failed !== err.message) note(`write failed (${err.message}); lines are lost until it works again`);
          failed = err.message;
        } else if (off + n < bytes.length) {
          writeFrom(off + n);
          return;
        } else {
          failed = "";
          if (dropped > 0) note(`${dropped} lines dropped: the file did not take them fast enough`);
          dropped = 0;
        }
        writing = false;
        if (pending.length > 0 || reopen) pump();
      });
    };
    writeFrom(0);
  };

  process.on("exit", () => {
    // Whatever waits behind the write in flight (which the kernel has by now, or never will).
    if (pending.length === 0) return;
    try {
      fs.writeSync(fd, pending.join("\n") + "\n");
    } catch {
      // nothing better to do at exit
    }
  });

  return {
    write(line) {
      if (pendingChars + line.length > MAX_PENDING_CHARS) {
        dropped++;
        return;
      }
      pending.push(line);
      pendingChars += line.length + 1;
      if (!scheduled && !writing) {
        scheduled = true;
        setImmediate(pump);
      }
    },
    reopen() {
      reopen = true;
      if (!scheduled && !writing) {
        scheduled = true;
        setImmediate(pump);
      }
    },
  };
}
