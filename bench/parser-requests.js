// The request heads bench/parser.bench.js and bench/parser-ab.js time, shared so both measure the
// same bytes. Plain heads (no obs-fold), each one whole request in one chunk.
export const REQUESTS = {
  curl: "GET /hello HTTP/1.1\r\nHost: 127.0.0.1:5000\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
  browser:
    "GET /assets/catalog/2024/autumn/boots-waterproof-leather.html?ref=home&utm_source=newsletter HTTP/1.1\r\n" +
    "Host: shop.example.org\r\n" +
    "Connection: keep-alive\r\n" +
    "sec-ch-ua: \"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n" +
    "sec-ch-ua-mobile: ?0\r\n" +
    "sec-ch-ua-platform: \"Linux\"\r\n" +
    "Upgrade-Insecure-Requests: 1\r\n" +
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n" +
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n" +
    "Sec-Fetch-Site: same-origin\r\n" +
    "Sec-Fetch-Mode: navigate\r\n" +
    "Referer: https://shop.example.org/\r\n" +
    "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
    "Accept-Language: en-GB,en;q=0.9,de;q=0.7\r\n" +
    "Cookie: session=8f2c1e0b9a7d4c3e; cart=3; theme=dark; consent=analytics%3Dno\r\n\r\n",
  "40 headers":
    "POST /api/v2/events HTTP/1.1\r\nHost: api.example.net\r\n" +
    Array.from({ length: 39 }, (_, i) => `X-Trace-Field-${String(i).padStart(2, "0")}: value-${i}-${"abcdef".repeat(i % 4)}\r\n`).join("") +
    "\r\n",
  // short fields: an API call whose names and values mostly fit in a few bytes, so a scan that
  // pays a fixed cost per field (vector setup) gets nothing back for it
  "short fields":
    "GET /v1/items/42 HTTP/1.1\r\n" +
    "Host: api\r\n" +
    "Accept: */*\r\n" +
    "TE: trailers\r\n" +
    "DNT: 1\r\n" +
    "X-Id: 7f3a\r\n" +
    "Origin: null\r\n" +
    "Pragma: no-cache\r\n" +
    "Range: bytes=0-99\r\n" +
    "If-Match: \"a1\"\r\n" +
    "Via: 1.1 a\r\n" +
    "\r\n",
};
