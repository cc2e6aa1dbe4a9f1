// The one fetch app every fetch-handler server in this benchmark runs.
export default {
  fetch() {
    return new Response("Hello, World!");
  },
};
