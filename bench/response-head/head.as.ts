// AssemblyScript kernel for the response-head experiment (bench/response-head.md): writes the
// fixed parts of a response head (status line, decimal Content-Length, hex chunk sizes, CRLFs)
// into linear memory at `ptr` and returns the byte count. Header names and values are JS
// strings, so the JS side copies them in between calls.

const REASON_200: string = "OK";
const REASON_404: string = "Not Found";

function putAscii(ptr: usize, s: string): usize {
  const n = s.length;
  for (let i = 0; i < n; i++) store<u8>(ptr + i, <u8>s.charCodeAt(i));
  return n;
}

export function statusLine(ptr: usize, status: i32): usize {
  let p = ptr;
  p += putAscii(p, "HTTP/1.1 ");
  store<u8>(p, <u8>(48 + status / 100));
  store<u8>(p + 1, <u8>(48 + (status / 10) % 10));
  store<u8>(p + 2, <u8>(48 + status % 10));
  store<u8>(p + 3, 32);
  p += 4;
  p += putAscii(p, status == 200 ? REASON_200 : REASON_404);
  store<u16>(p, 0x0a0d);
  return p + 2 - ptr;
}

export function decimalLine(ptr: usize, n: u32): usize {
  // "content-length: <n>\r\n"
  let p = ptr + putAscii(ptr, "content-length: ");
  let digits = 1;
  for (let t = n; t >= 10; t /= 10) digits++;
  for (let i = digits - 1; i >= 0; i--) {
    store<u8>(p + i, <u8>(48 + n % 10));
    n /= 10;
  }
  p += digits;
  store<u16>(p, 0x0a0d);
  return p + 2 - ptr;
}

export function chunkSize(ptr: usize, n: u32): usize {
  let digits = 1;
  for (let t = n; t >= 16; t >>= 4) digits++;
  for (let i = digits - 1; i >= 0; i--) {
    const d = n & 15;
    store<u8>(ptr + i, <u8>(d < 10 ? 48 + d : 87 + d));
    n >>= 4;
  }
  store<u16>(ptr + digits, 0x0a0d);
  return digits + 2;
}

export function crlf(ptr: usize): usize {
  store<u16>(ptr, 0x0a0d);
  return 2;
}
