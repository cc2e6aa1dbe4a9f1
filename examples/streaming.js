// A streamed response: chunked to HTTP/1.1 clients, close-delimited to HTTP/1.0, sent as the
// app produces it (try `curl -N localhost:5000/`). Stops early if the client goes away.
export default {
  fetch(request) {
    let n = 0;
    const stream = new ReadableStream({
      async pull(controller) {
        if (n === 5 || request.signal.aborted) return controller.close();
        await new Promise((resolve) => setTimeout(resolve, 200));
        controller.enqueue(new TextEncoder().encode(`tick ${++n}\n`));
      },
    });
    return new Response(stream, { headers: { "content-type": "text/plain; charset=utf-8" } });
  },
};
