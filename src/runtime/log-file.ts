/**
 * The access log sink: lines appended to a file (`-` = stderr), batched per tick so a busy
 * worker makes one write(2) per tick instead of one per request, flushed on exit.
 */
import fs from "node:fs";

export function openLog(path: string): (line: string) => void {
  const fd = path === "-" ? -1 : fs.openSync(path, "a");
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join("\n") + "\n";
    pending = [];
    if (fd < 0) process.stderr.write(text);
    else fs.writeSync(fd, text);
  };
  process.on("exit", flush);
  return (line) => {
    if (pending.push(line) === 1) setImmediate(flush);
  };
}
