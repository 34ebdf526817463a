// Drives the official Pipecat client (@pipecat-ai/client-js + @pipecat-ai/websocket-transport)
// against an action server: node driver.mjs <base http url> <conversation id> [token].
// Prints one JSON line with what the client saw; exits non-zero on any failure.
// Only browser-only pieces are stubbed: the media manager (no microphone/speaker in Node),
// `window`/`navigator` (the client reads the user agent) and, on Node < 22, the WHATWG
// WebSocket global, which comes from undici (the implementation Node 22 ships as its global).
// Checked with Node 20 and with Debian bookworm's Node 18.20 (what .ci/run installs).
import { register } from "node:module";
import { WebSocket as UndiciWebSocket } from "undici";

// Node 18 (Debian bookworm's) needs to be told the Pipecat ES module builds are ES modules.
register("./esm-hooks.mjs", import.meta.url);

if (typeof globalThis.WebSocket === "undefined") {
  globalThis.WebSocket = UndiciWebSocket;
}
// The client reads window.navigator.userAgent to describe itself in client-ready.
if (typeof globalThis.navigator === "undefined") {
  globalThis.navigator = { userAgent: `Node.js/${process.version}` };
}
if (typeof globalThis.window === "undefined") {
  globalThis.window = globalThis;
}

// Imported after the hook is registered (static imports would load first).
const { PipecatClient, LogLevel, RTVI_PROTOCOL_VERSION } = await import("@pipecat-ai/client-js");
const { WebSocketTransport } = await import("@pipecat-ai/websocket-transport");

const [base, conversationId, token] = process.argv.slice(2);
const STEP_TIMEOUT_MS = 10_000;

/** A media manager without devices: the transport only needs these calls to succeed. */
class NoMediaManager {
  setUserAudioCallback() {}
  setClientOptions() {}
  async initialize() {}
  async connect() {}
  async disconnect() {}
  bufferBotAudio() {}
  async getAllMics() { return []; }
  async getAllCams() { return []; }
  async getAllSpeakers() { return []; }
  async updateMic() {}
  updateCam() {}
  updateSpeaker() {}
  get selectedMic() { return {}; }
  get selectedCam() { return {}; }
  get selectedSpeaker() { return {}; }
  enableMic() {}
  enableCam() {}
  enableScreenShare() {}
  get isMicEnabled() { return false; }
  get isCamEnabled() { return false; }
  get isSharingScreen() { return false; }
  tracks() { return { local: {} }; }
}

const seen = { botOutput: [], transcripts: [], llmText: [], serverMessages: [], errors: [] };
const waiters = [];

function record(kind, data) {
  seen[kind].push(data);
  for (const waiter of [...waiters]) {
    if (waiter.kind === kind && waiter.match(data)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(data);
    }
  }
}

function waitFor(kind, match, what) {
  const already = seen[kind].find(match);
  if (already) return Promise.resolve(already);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), STEP_TIMEOUT_MS);
    waiters.push({ kind, match, resolve: (data) => { clearTimeout(timer); resolve(data); } });
  });
}

function withTimeout(promise, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), STEP_TIMEOUT_MS)),
  ]);
}

let disconnected;
const disconnectedPromise = new Promise((resolve) => { disconnected = resolve; });

const client = new PipecatClient({
  transport: new WebSocketTransport({ mediaManager: new NoMediaManager() }),
  enableMic: false,
  enableCam: false,
  callbacks: {
    onBotOutput: (data) => record("botOutput", data),
    onUserTranscript: (data) => record("transcripts", data),
    onBotLlmText: (data) => record("llmText", data),
    onServerMessage: (data) => record("serverMessages", data),
    onMessageError: (message) => record("errors", message),
    onDisconnected: () => disconnected(),
  },
});
client.setLogLevel?.(LogLevel.WARN);

async function main() {
  const result = { clientProtocol: RTVI_PROTOCOL_VERSION };
  try {
    const headers = new Headers(token ? { "X-API-TOKEN": token } : {});
    const ready = await withTimeout(
      client.startBotAndConnect({
        endpoint: `${base}/rtvi/start`,
        headers,
        requestData: { conversation_id: conversationId },
      }),
      "bot-ready",
    );
    result.botReady = ready;

    result.order = await client.sendClientRequest(
      "action_lookup_order", { order_id: 12, express: true }, STEP_TIMEOUT_MS,
    );

    try {
      await client.sendClientRequest("action_explode", {}, STEP_TIMEOUT_MS);
      result.explode = "no error";
    } catch (error) {
      result.explode = error?.data ?? String(error);
    }

    await client.sendText("/book");
    result.ask = await waitFor("botOutput", (d) => d.text === "For how many people?", "the question");
    result.bookTranscript = await waitFor("transcripts", (d) => d.text === "/book", "the transcript");

    client.sendDTMF("4");
    result.dtmfTranscript = await waitFor("transcripts", (d) => d.text === "4", "the dtmf transcript");
    result.noted = await waitFor("botOutput", (d) => d.text.startsWith("Noted"), "the answer to dtmf");

    await client.sendText("/media");
    result.media = await waitFor(
      "serverMessages", (d) => d?.type === "bot-message" && d.message?.custom?.ssml, "the ssml message",
    );

    client.disconnectBot();
    await withTimeout(disconnectedPromise, "disconnect after disconnect-bot");
    result.disconnected = true;
    result.seen = seen;
    console.log(JSON.stringify(result));
    process.exit(0);
  } catch (error) {
    result.failure = error?.stack ?? JSON.stringify(error);
    result.seen = seen;
    console.log(JSON.stringify(result));
    process.exit(1);
  }
}

main();
