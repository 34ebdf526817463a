// The inspector page: renders what /inspect/api returns (docs/inspector.md). No logic of its own.
"use strict";

const TOKEN = new URLSearchParams(location.search).get("token");
const RECENT_KEY = "inspector.recentConversations";
let diagramCounter = 0;

// --- helpers --------------------------------------------------------------------------------

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json" };
  if (TOKEN) headers.Authorization = `Bearer ${TOKEN}`;
  const response = await fetch(`/inspect/api${path}`, { ...options, headers });
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  return { status: response.status, ok: response.ok, body };
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const $ = (id) => document.getElementById(id);

// replaceChildren() would print null as "null": optional parts are left out instead.
function setChildren(node, ...children) {
  node.replaceChildren(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
}
const json = (value) => JSON.stringify(value, null, 2);

function pre(value, id) {
  return el("pre", { id }, typeof value === "string" ? value : json(value));
}

async function drawMermaid(container, text) {
  setChildren(container, );
  try {
    const { svg } = await window.mermaid.render(`diagram-${++diagramCounter}`, text);
    container.innerHTML = svg; // mermaid's own output, sanitised (securityLevel: strict)
    container.dataset.rendered = "true";
  } catch (error) {
    container.append(el("p", { class: "error", text: `Cannot draw the diagram: ${error}` }));
    container.append(pre(text));
  }
}

// Bot messages as a user sees them: text, image, buttons (a click sends the payload).
function renderMessage(message, onButton) {
  const box = el("div", { class: "msg bot" });
  if (message.text) box.append(el("div", { class: "text", text: message.text }));
  if (message.image) box.append(el("img", { src: message.image, alt: "image" }));
  const buttons = message.buttons || message.quick_replies || [];
  if (buttons.length) {
    box.append(el("div", { class: "buttons" }, buttons.map((button) =>
      el("button", {
        type: "button",
        "data-payload": button.payload ?? "",
        onclick: onButton ? () => onButton(button.payload ?? button.title) : null,
      }, button.title ?? button.payload))));
  }
  for (const key of ["attachment", "custom", "elements"]) {
    if (message[key]) box.append(pre({ [key]: message[key] }));
  }
  return box;
}

// --- tabs -----------------------------------------------------------------------------------

const loaders = {};
const loaded = new Set();

function showView() {
  const view = (location.hash || "#actions").slice(1);
  for (const name of ["actions", "chat", "flows"]) {
    $(`view-${name}`).classList.toggle("active", name === view);
    $(`tab-${name}`).classList.toggle("active", name === view);
  }
  if (!loaded.has(view) && loaders[view]) {
    loaded.add(view);
    loaders[view]();
  }
}

// --- Actions --------------------------------------------------------------------------------

let allActions = [];

loaders.actions = async () => {
  const { ok, body } = await api("/actions");
  if (!ok) return setChildren($("action-detail"), el("p", { class: "error", text: body.error }));
  allActions = body.actions;
  renderActionList();
};

function renderActionList() {
  const filter = $("action-filter").value.toLowerCase();
  setChildren($("action-list"), ...allActions
    .filter((a) => a.name.toLowerCase().includes(filter))
    .map((action) => el("li", {
      "data-action": action.name,
      onclick: (event) => selectAction(action, event.currentTarget),
    }, el("span", { text: action.name }), el("span", { class: `kind kind-${action.kind}`, text: action.kind }))));
}

function argumentInput(arg) {
  const attrs = { name: arg.name, "data-arg": arg.name, "data-type": arg.type };
  if (arg.type === "bool") {
    return el("select", attrs, el("option", { value: "" }, "(unset)"),
      el("option", { value: "true" }, "true"), el("option", { value: "false" }, "false"));
  }
  if (arg.type === "array" || arg.type === "object") {
    return el("textarea", { ...attrs, rows: 3, cols: 40, placeholder: arg.type === "array" ? "[...] (JSON)" : "{...} (JSON)" });
  }
  // Text for numbers too: the API coerces by the declared type and names a bad value.
  return el("input", { ...attrs, type: "text", inputmode: arg.type === "number" ? "decimal" : null, size: 40 });
}

function slotRow() {
  return el("div", { class: "row slot-row" },
    el("input", { class: "slot-name", placeholder: "slot", size: 16 }),
    el("input", { class: "slot-value", placeholder: "value", size: 24 }),
    el("button", { type: "button", class: "secondary", onclick: (e) => e.currentTarget.parentElement.remove() }, "×"));
}

function selectAction(action, item) {
  for (const li of $("action-list").children) li.classList.toggle("selected", li === item);
  const form = el("form", { class: "args", id: "action-form" });
  if (action.arguments.length === 0) form.append(el("p", { class: "hint", text: "No declared arguments." }));
  for (const arg of action.arguments) {
    form.append(el("label", {},
      el("span", {}, `${arg.name} `, el("small", { text: `${arg.type}${arg.required ? "" : ", optional"}` })),
      argumentInput(arg),
      arg.description ? el("small", { text: ` ${arg.description}` }) : null));
  }
  const slots = el("div", { id: "action-slots" });
  form.append(el("h3", { text: "Slots" }), slots,
    el("button", { type: "button", class: "secondary", id: "action-add-slot", onclick: () => slots.append(slotRow()) }, "Add slot"),
    el("h3", { text: "Context" }),
    el("label", {}, el("span", { text: "Conversation id (its stored tracker is the context)" }),
      el("input", { id: "action-conversation", size: 30, placeholder: "optional" })),
    el("div", { class: "row" }, el("button", { type: "submit", id: "action-run" }, "Run")));
  form.addEventListener("submit", (event) => { event.preventDefault(); runAction(action, form); });
  const request = action.request
    ? el("p", {}, el("code", { text: `${action.request.method} ${action.request.url}` }),
        action.variables?.length ? ` variables: ${action.variables.map((v) => `$${v}`).join(", ")}` : "")
    : null;
  setChildren($("action-detail"), 
    el("h2", { id: "action-title" }, `${action.name} `, el("span", { class: `kind kind-${action.kind}`, text: action.kind })),
    action.description ? el("p", { text: action.description }) : null,
    action.source ? el("p", { class: "hint", text: action.source }) : null,
    request, form);
  setChildren($("action-result"), );
}

async function runAction(action, form) {
  const args = {};
  for (const input of form.querySelectorAll("[data-arg]")) args[input.dataset.arg] = input.value;
  const slots = {};
  for (const row of form.querySelectorAll(".slot-row")) {
    const name = row.querySelector(".slot-name").value.trim();
    if (name) slots[name] = row.querySelector(".slot-value").value;
  }
  const conversation_id = $("action-conversation").value.trim() || null;
  const { status, body } = await api(`/actions/${encodeURIComponent(action.name)}/run`, {
    method: "POST", body: JSON.stringify({ args, slots, conversation_id }),
  });
  const out = $("action-result");
  if (status !== 200) {
    setChildren(out, el("h2", { class: "status-error", id: "run-status", text: `HTTP ${status}` }), pre(body, "run-error"));
    return;
  }
  const good = body.status === 200;
  setChildren(out, 
    el("h2", { id: "run-status", class: good ? "status-ok" : "status-error" },
      `${good ? "OK" : `Error ${body.status}`} in ${body.duration_ms} ms`),
    body.error ? pre(body.error, "run-error") : null,
    el("h3", { text: "Bot messages" }),
    el("div", { id: "run-messages" }, body.messages.length ? body.messages.map((m) => renderMessage(m)) : el("p", { class: "hint", text: "none" })),
    el("h3", { text: "Events" }),
    pre(body.result ? body.result.events : [], "run-events"),
    ...(body.api_calls.length ? [el("h3", { text: "API request and response (secrets redacted)" }), pre(body.api_calls, "run-api")] : []),
    el("details", {}, el("summary", { text: "Raw result" }), pre(body.result ?? body.error)));
}

// --- Chat -----------------------------------------------------------------------------------

let conversationId = null;
let flowsEnabled = true;

function recentConversations() {
  try { return JSON.parse(localStorage.getItem(RECENT_KEY) || "[]"); } catch { return []; }
}

function remember(id) {
  const recent = [id, ...recentConversations().filter((x) => x !== id)].slice(0, 20);
  localStorage.setItem(RECENT_KEY, JSON.stringify(recent));
  setChildren($("chat-recent"), ...recent.map((x) => el("option", { value: x })));
}

function newConversationId() {
  return `inspector-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

loaders.chat = async () => {
  const recent = recentConversations();
  await openConversation(recent[0] || newConversationId());
};

async function openConversation(id) {
  conversationId = id;
  $("chat-conversation").value = id;
  remember(id);
  setChildren($("chat-transcript"), );
  setChildren($("chat-events"), );
  $("chat-error").textContent = "";
  const { ok, body } = await api(`/conversations/${encodeURIComponent(id)}`);
  if (!ok) { $("chat-error").textContent = body.error; return; }
  for (const event of body.events) {
    if (event.event === "user") addBubble("user", event.text);
    if (event.event === "bot") $("chat-transcript").append(renderMessage({ text: event.text, ...(event.data || {}) }, send));
  }
  scrollTranscript();
  renderState(body, {});
}

function addBubble(kind, text) {
  $("chat-transcript").append(el("div", { class: `msg ${kind}`, text }));
  scrollTranscript();
}

function scrollTranscript() {
  const transcript = $("chat-transcript");
  transcript.scrollTop = transcript.scrollHeight;
}

// One turn at a time, in the order the user sent them: a fast second message must not overtake
// the first on its way to the server.
let turnsInFlight = Promise.resolve();

function send(text, path = "messages") {
  turnsInFlight = turnsInFlight.then(() => sendNow(text, path)).catch((error) => {
    $("chat-error").textContent = String(error);
  });
  return turnsInFlight;
}

async function sendNow(text, path) {
  if (!text) return;
  $("chat-error").textContent = "";
  if (path === "messages") addBubble("user", text);
  const { ok, body } = await api(`/conversations/${encodeURIComponent(conversationId)}/${path}`, {
    method: "POST", body: path === "messages" ? JSON.stringify({ text }) : "{}",
  });
  if (!ok) { $("chat-error").textContent = body.error; return; }
  for (const message of body.messages) $("chat-transcript").append(renderMessage(message, send));
  scrollTranscript();
  renderState(body, body.changed_slots || {});
  const turn = $("chat-events").children.length + 1;
  for (const earlier of $("chat-events").children) earlier.open = false;
  $("chat-events").prepend(el("details", { class: "turn", open: true },
    el("summary", { text: `Turn ${turn}: ${body.text}` }), pre(body.turn_events)));
}

function renderState(state, changed) {
  setChildren($("chat-stack"), ...(state.stack.length
    ? [...state.stack].reverse().map((frame) => el("li", { class: frame.is_pattern ? "pattern" : "" },
        el("strong", { text: frame.flow_id }), ` @ ${frame.step_label} `, el("small", { text: `(${frame.state}, ${frame.frame_type})` })))
    : [el("li", { class: "hint", text: state.ended ? "(empty: the conversation has ended)" : "(empty)" })]));
  setChildren($("chat-slots").tBodies[0], ...Object.entries(state.slots).map(([name, value]) =>
    el("tr", { class: name in changed ? "changed" : "", "data-slot": name },
      el("td", { text: name }), el("td", { text: JSON.stringify(value) }))));
  $("chat-commands").textContent = json(state.commands || []);
  const llm = state.llm;
  $("chat-llm").hidden = !llm;
  if (llm) {
    $("chat-llm-prompt").textContent = llm.prompt ?? "";
    $("chat-llm-answer").textContent = llm.answer ?? "";
  }
  drawActiveFlow(state.active);
}

async function drawActiveFlow(active) {
  const box = $("chat-diagram");
  if (!active) { setChildren(box, el("p", { class: "hint", text: "No active flow." })); delete box.dataset.flow; return; }
  const { ok, body } = await api(`/flows/${encodeURIComponent(active.flow_id)}?step=${encodeURIComponent(active.step_id)}`);
  if (!ok) return;
  box.dataset.flow = active.flow_id;
  box.dataset.step = active.step_id;
  await drawMermaid(box, body.mermaid);
}

// --- Flows ----------------------------------------------------------------------------------

loaders.flows = async () => {
  const { ok, body } = await api("/flows");
  if (!ok) return setChildren($("flow-detail"), el("p", { class: "error", text: body.error }));
  const item = (flow) => el("li", { "data-flow": flow.id, onclick: () => showFlow(flow.id) },
    el("span", { text: flow.id }), el("small", { text: `${flow.steps} steps` }));
  setChildren($("flow-list"), ...body.flows.filter((f) => !f.is_pattern).map(item));
  setChildren($("pattern-list"), ...body.flows.filter((f) => f.is_pattern).map(item));
  if (!body.flows.some((f) => f.is_pattern)) $("pattern-list").append(el("li", { class: "hint", text: "(none)" }));
};

async function showFlow(id) {
  for (const li of document.querySelectorAll("#flow-list li, #pattern-list li")) li.classList.toggle("selected", li.dataset.flow === id);
  const { ok, body } = await api(`/flows/${encodeURIComponent(id)}`);
  if (!ok) return setChildren($("flow-detail"), el("p", { class: "error", text: body.error }));
  const diagram = el("div", { class: "diagram", id: "flow-diagram", "data-flow": id });
  setChildren($("flow-detail"), 
    el("h2", { id: "flow-title", text: `${body.name} (${body.id})` }),
    el("p", { class: "hint", text: `${body.file}:${body.line}` }),
    body.description ? el("p", { text: body.description }) : null,
    diagram,
    el("table", { class: "steps" }, el("tbody", {}, body.steps.map((step) =>
      el("tr", {}, el("td", { text: step.id }), el("td", { text: step.label }), el("td", { text: `${step.file}:${step.line}` }))))),
    el("details", {}, el("summary", { text: "Mermaid source" }), pre(body.mermaid)));
  await drawMermaid(diagram, body.mermaid);
}

async function validateFlows() {
  const { ok, body } = await api("/validation");
  const out = $("flows-report");
  if (!ok) return setChildren(out, el("p", { class: "error", text: body.error }));
  setChildren(out, el("h2", { id: "validation-status", class: body.valid ? "status-ok" : "status-error",
    text: body.valid ? `Valid: ${body.flows} flows, no problems` : `${body.issues.length} problem(s)` }),
    el("ul", { id: "validation-issues" }, body.issues.map((issue) => el("li", { class: "error", text: issue.text }))),
    ...body.notes.map((note) => el("p", { class: "hint", text: note })));
}

async function runTests() {
  const out = $("flows-report");
  setChildren(out, el("p", { class: "hint", text: "Running the e2e tests..." }));
  const { ok, body } = await api("/tests", { method: "POST", body: "{}" });
  if (!ok) return setChildren(out, el("p", { class: "error", id: "tests-error", text: body.error }));
  setChildren(out, 
    el("h2", { id: "tests-summary", class: body.failed || body.issues.length ? "status-error" : "status-ok", text: body.summary }),
    el("ul", {}, body.issues.map((issue) => el("li", { class: "error", text: issue.text }))),
    el("ul", { id: "tests-cases" }, body.cases.map((c) => el("li", { class: `case ${c.passed ? "passed" : "failed"}`, "data-case": c.name },
      `${c.passed ? "PASSED" : "FAILED"} ${c.file}::${c.name}`,
      c.failures.length ? pre(c.failures.map((f) => f.text).join("\n")) : null))));
}

// --- start ----------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", async () => {
  window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", flowchart: { htmlLabels: false } });
  $("action-filter").addEventListener("input", renderActionList);
  $("chat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("chat-input").value.trim();
    $("chat-input").value = "";
    send(text);
  });
  $("chat-load").addEventListener("click", () => openConversation($("chat-conversation").value.trim() || newConversationId()));
  $("chat-new").addEventListener("click", () => openConversation(newConversationId()));
  $("chat-restart").addEventListener("click", () => send("/restart", "restart"));
  $("flows-validate").addEventListener("click", validateFlows);
  $("flows-test").addEventListener("click", runTests);
  window.addEventListener("hashchange", showView);
  const { ok, body } = await api("");
  if (ok) {
    flowsEnabled = body.flows;
    $("server-info").textContent = `action-server ${body.version} · ${body.actions} actions${flowsEnabled ? "" : " · no flows loaded (--flows)"}`;
  }
  showView();
});
