// Node < 20.19 has no ES module syntax detection: the Pipecat packages ship their ES module
// builds as `dist/index.module.js` in packages without "type": "module", which such a Node would
// load as CommonJS and fail on `import`. This load hook says what those files are; newer Node
// versions detect it themselves and are unaffected.
export async function load(url, context, nextLoad) {
  if (url.includes("/node_modules/") && url.endsWith("/dist/index.module.js")) {
    return nextLoad(url, { ...context, format: "module" });
  }
  return nextLoad(url, context);
}
