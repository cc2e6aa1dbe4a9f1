// The smallest pronghorn app: `pronghorn examples/hello.js`, then `curl localhost:5000/`.
export default {
  fetch() {
    return new Response("Hello, World!");
  },
};
