// 103 Early Hints: tell the browser what to preload while the page is still being made.
// `info.informational(status, headers)` sends a 1xx response at once (Gazelle's
// psgix.informational); the final response follows on the same connection. HTTP/1.0 clients
// get only the final one. Try `curl -v localhost:5000/`.
const PAGE = `<!doctype html>
<html>
<head><link rel="stylesheet" href="/style.css"><script src="/app.js" defer></script></head>
<body><h1>Hello, early hints</h1></body>
</html>
`;

export default {
  async fetch(request, info) {
    const { pathname } = new URL(request.url);
    if (pathname === "/style.css") return new Response("h1 { color: teal }\n", { headers: { "content-type": "text/css" } });
    if (pathname === "/app.js") return new Response("console.log('hello');\n", { headers: { "content-type": "text/javascript" } });
    info.informational(103, {
      link: "</style.css>; rel=preload; as=style, </app.js>; rel=preload; as=script",
    });
    // The slow part (a database, a template) happens after the hints went out.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return new Response(PAGE, {
      headers: { "content-type": "text/html; charset=utf-8", link: "</style.css>; rel=preload; as=style" },
    });
  },
};
