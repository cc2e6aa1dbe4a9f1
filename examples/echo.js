// Echoes the request back: method, URL and headers as JSON for GET, the body itself otherwise
// (streamed: the response body is the request body, so uploads of any size pass through).
export default {
  fetch(request) {
    if (request.method === "GET" || request.method === "HEAD") {
      return Response.json({
        method: request.method,
        url: request.url,
        headers: Object.fromEntries(request.headers),
      });
    }
    return new Response(request.body, {
      headers: { "content-type": request.headers.get("content-type") ?? "application/octet-stream" },
    });
  },
};
