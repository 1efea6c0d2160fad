// The WebSocket console: reads /asyncapi.json, talks to /web in JSON or protobuf.
// Plain JavaScript, no build step, no dependency: served by the app itself.
"use strict";

const NIL_UUID = "00000000-0000-0000-0000-000000000000";
const SUBSCRIBE = "SUBSCRIBE";
const STATUS_NAMES = ["OK", "ERROR", "INVALID_DATA", "PERMISSION_DENIED", "NOT_FOUND", "UNAVAILABLE"];

// ---- protobuf (pkgapi.v1 in schemas/proto/ws.proto): just the messages of /web ----

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function pushVarint(bytes, value) {
  let rest = BigInt.asUintN(64, BigInt(value));
  while (rest > 0x7fn) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
}

function pushString(bytes, field, text) {
  if (!text) return; // proto3 leaves default values out
  const encoded = encoder.encode(text);
  pushVarint(bytes, (field << 3) | 2);
  pushVarint(bytes, encoded.length);
  for (const byte of encoded) bytes.push(byte);
}

/** A Request message: pkg_id = 1, req_id = 2, method = 3, data_json = 4. */
function encodeRequest(pkgId, reqId, method, data) {
  const bytes = [];
  if (pkgId) {
    pushVarint(bytes, 1 << 3);
    pushVarint(bytes, pkgId);
  }
  pushString(bytes, 2, reqId);
  pushString(bytes, 3, method);
  pushString(bytes, 4, JSON.stringify(data));
  return new Uint8Array(bytes);
}

/** The fields of a message by number: varints as BigInt, length-delimited ones as bytes. */
function readFields(bytes) {
  const fields = new Map();
  let at = 0;
  const varint = () => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (at >= bytes.length || shift > 63n) throw new Error("truncated varint");
      const byte = bytes[at++];
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wireType = key & 7;
    if (wireType === 0) {
      fields.set(field, varint());
    } else if (wireType === 2) {
      const length = Number(varint());
      if (at + length > bytes.length) throw new Error("truncated field");
      fields.set(field, bytes.subarray(at, at + length));
      at += length;
    } else if (wireType === 1 || wireType === 5) {
      at += wireType === 1 ? 8 : 4; // fixed-size fields: none in these messages, skipped
    } else {
      throw new Error(`unknown wire type ${wireType}`);
    }
  }
  return fields;
}

function int(fields, field, bits) {
  const value = fields.get(field);
  return typeof value === "bigint" ? Number(BigInt.asIntN(bits, value)) : 0;
}

function text(fields, field) {
  const value = fields.get(field);
  return value instanceof Uint8Array ? decoder.decode(value) : "";
}

function json(textValue) {
  return textValue === "" ? null : JSON.parse(textValue);
}

/** A Response (or, when req_id is the nil UUID, a Broadcast) as the JSON frame would say it. */
function decodeFrame(buffer) {
  const fields = readFields(new Uint8Array(buffer));
  const reqId = text(fields, 2);
  if (reqId === NIL_UUID) {
    const push = { pkg_id: int(fields, 1, 64), req_id: reqId, data: json(text(fields, 4)) };
    if (text(fields, 8)) push.topic = text(fields, 8);
    if (fields.has(9)) push.offset = int(fields, 9, 64);
    return push;
  }
  let meta = json(text(fields, 6));
  const paging = fields.get(5);
  if (paging instanceof Uint8Array) {
    const page = readFields(paging);
    meta = {
      page: int(page, 1, 64),
      per_page: int(page, 2, 64),
      total: int(page, 3, 64),
      pages: int(page, 4, 64),
    };
  }
  return {
    pkg_id: fields.has(1) ? int(fields, 1, 64) : null,
    req_id: reqId || null,
    status_code: int(fields, 3, 32),
    meta,
    data: json(text(fields, 4)),
    request_id: text(fields, 7) || null,
  };
}

// ---- the page ----

const $ = (id) => document.getElementById(id);
const packages = new Map(); // pkg_id -> {name, roles, summary, data}
const pushes = new Map(); // pkg_id of a pushed message -> its name
let socket = null;

function setStatus(message) {
  $("status").textContent = message;
}

function setConnected(connected) {
  $("connect").disabled = connected;
  $("disconnect").disabled = !connected;
  $("send").disabled = !connected;
  $("subscribe").disabled = !connected || !packageNamed(SUBSCRIBE);
}

function packageNamed(name) {
  for (const [pkgId, info] of packages) if (info.name === name) return pkgId;
  return null;
}

function label(pkgId, kind) {
  const name = kind === "push" ? pushes.get(pkgId) : (packages.get(pkgId) || {}).name;
  return name ? `${name} (${pkgId})` : String(pkgId);
}

/** One line of the log: what went or came, its ids and status, and the frame itself. */
function log(kind, frame, format) {
  const item = document.createElement("li");
  item.className = kind;
  item.dataset.kind = kind;
  if (format) item.dataset.format = format;
  const head = document.createElement("p");
  const parts = [kind, format];
  if (frame && typeof frame === "object") {
    if (frame.pkg_id !== undefined && frame.pkg_id !== null) {
      item.dataset.pkgId = frame.pkg_id;
      parts.push(label(frame.pkg_id, kind));
    }
    if (frame.status_code !== undefined) {
      item.dataset.status = frame.status_code;
      parts.push(`status ${frame.status_code} ${STATUS_NAMES[frame.status_code] || ""}`.trim());
    }
    if (frame.topic) parts.push(`topic ${frame.topic}` + (frame.offset ? ` #${frame.offset}` : ""));
    if (frame.req_id && frame.req_id !== NIL_UUID) {
      item.dataset.reqId = frame.req_id;
      parts.push(`req_id ${frame.req_id}`);
    }
    if (frame.request_id) parts.push(`request_id ${frame.request_id}`);
  }
  head.textContent = `${new Date().toLocaleTimeString()} · ${parts.join(" · ")}`;
  const body = document.createElement("pre");
  body.textContent = typeof frame === "string" ? frame : JSON.stringify(frame, null, 2);
  item.append(head, body);
  $("log").prepend(item);
}

// ---- the data form, from the payload schema of a package ----

function simpleType(schema) {
  if (!schema || typeof schema !== "object") return null;
  const types = schema.anyOf ? schema.anyOf.map((option) => option.type) : [schema.type];
  const kinds = types.filter((type) => type !== "null");
  if (kinds.length !== 1 || !["string", "integer", "number", "boolean"].includes(kinds[0])) {
    return null;
  }
  return { type: kinds[0], nullable: types.includes("null") };
}

/** Inputs for the simple properties of `data`; anything else is edited in the JSON box. */
function buildForm(schema) {
  const box = $("data-fields");
  box.replaceChildren();
  const properties = (schema && schema.properties) || {};
  const required = new Set((schema && schema.required) || []);
  for (const [name, property] of Object.entries(properties)) {
    const kind = simpleType(property);
    if (!kind) continue;
    const id = `field-${name}`;
    const field = document.createElement("div");
    field.className = "field";
    const caption = document.createElement("label");
    caption.htmlFor = id;
    caption.textContent = property.title || name;
    const input = document.createElement("input");
    input.id = id;
    input.dataset.name = name;
    input.dataset.type = kind.type;
    if (kind.type === "boolean") {
      input.type = "checkbox";
    } else {
      input.type = kind.type === "string" ? "text" : "number";
      if (kind.type === "integer") input.step = "1";
      if (kind.type === "number") input.step = "any";
      if (property.maxLength) input.maxLength = property.maxLength;
      if (property.minimum !== undefined) input.min = property.minimum;
      if (property.maximum !== undefined) input.max = property.maximum;
      input.required = required.has(name);
    }
    if (property.description) input.title = property.description;
    input.addEventListener("input", formToJson);
    field.append(caption, input);
    box.append(field);
  }
}

function formToJson() {
  let data;
  try {
    data = JSON.parse($("data").value || "{}");
  } catch {
    data = {};
  }
  for (const input of $("data-fields").querySelectorAll("input")) {
    const name = input.dataset.name;
    if (input.type === "checkbox") {
      data[name] = input.checked;
    } else if (input.value === "") {
      delete data[name];
    } else {
      data[name] = input.dataset.type === "string" ? input.value : Number(input.value);
    }
  }
  $("data").value = JSON.stringify(data, null, 2);
}

/** The other way: fields take the values typed into the JSON box (when it holds JSON). */
function jsonToForm() {
  let data;
  try {
    data = JSON.parse($("data").value || "{}");
  } catch {
    return;
  }
  for (const input of $("data-fields").querySelectorAll("input")) {
    const value = data && typeof data === "object" ? data[input.dataset.name] : undefined;
    if (input.type === "checkbox") input.checked = value === true;
    else input.value = value === undefined || value === null ? "" : String(value);
  }
}

function choosePackage() {
  const pkgId = Number($("package").value);
  const info = packages.get(pkgId);
  if (!info) return;
  const roles = info.roles.length ? `roles: ${info.roles.join(", ")}` : "any authenticated user";
  $("package-info").textContent = [info.summary, roles].filter(Boolean).join(" · ");
  $("data").value = "{}";
  buildForm(info.data);
  formToJson();
}

async function loadPackages() {
  const response = await fetch("asyncapi.json", { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`asyncapi.json: HTTP ${response.status}`);
  const document_ = await response.json();
  const messages = (document_.components && document_.components.messages) || {};
  const found = Object.entries(messages)
    .filter(([, message]) => Number.isInteger(message["x-pkg-id"]))
    .map(([key, message]) => ({
      pkgId: message["x-pkg-id"],
      name: message.name || key,
      summary: message.summary || message.description || "",
      roles: message["x-roles"] || [],
      data: (((message.payload || {}).properties || {}).data) || {},
    }))
    .sort((a, b) => a.pkgId - b.pkgId);
  for (const [key, message] of Object.entries(messages)) {
    if (Number.isInteger(message["x-push-id"])) pushes.set(message["x-push-id"], message.name || key);
  }
  const select = $("package");
  select.replaceChildren();
  for (const item of found) {
    packages.set(item.pkgId, item);
    const option = document.createElement("option");
    option.value = item.pkgId;
    option.textContent = `${item.name} (${item.pkgId})` + (item.roles.length ? ` · ${item.roles.join(", ")}` : "");
    select.append(option);
  }
  choosePackage();
}

// ---- the connection ----

function chosenFormat() {
  return document.querySelector('input[name="format"]:checked').value;
}

function connect(event) {
  event.preventDefault();
  const token = $("token").value.trim();
  if (!token) return;
  const format = chosenFormat();
  const url = new URL("web", window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.search = format === "protobuf" ? "?format=protobuf" : "";
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  socket = ws;
  setStatus("Connecting…");
  $("connect").disabled = true;
  ws.addEventListener("open", () => {
    ws.send(JSON.stringify({ type: "auth", token, format }));
  });
  ws.addEventListener("message", (message) => receive(ws, message));
  ws.addEventListener("close", (close) => {
    if (socket === ws) socket = null;
    setConnected(false);
    setStatus(`Closed: ${close.code}${close.reason ? ` ${close.reason}` : ""}`);
    log("closed", { code: close.code, reason: close.reason }, "");
  });
}

function receive(ws, message) {
  if (typeof message.data !== "string") {
    let frame;
    try {
      frame = decodeFrame(message.data);
    } catch (error) {
      log("error", `unreadable protobuf frame: ${error.message}`, "protobuf");
      return;
    }
    log(frame.req_id === NIL_UUID ? "push" : "response", frame, "protobuf");
    return;
  }
  let frame;
  try {
    frame = JSON.parse(message.data);
  } catch {
    log("error", message.data, "json");
    return;
  }
  if (frame.type === "auth") {
    if (frame.status === "ok") {
      setConnected(true);
      setStatus(`Connected as ${frame.user}`);
    }
    log("auth", frame, "json");
    return;
  }
  log(frame.req_id === NIL_UUID ? "push" : "response", frame, "json");
}

/** A random (version 4) UUID; crypto.randomUUID() exists on secure (https, localhost) pages only. */
function uuid4() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function send(pkgId, data, method = "") {
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  const reqId = uuid4();
  const frame = { pkg_id: pkgId, req_id: reqId, data };
  if (method) frame.method = method;
  const format = chosenFormat();
  socket.send(format === "protobuf" ? encodeRequest(pkgId, reqId, method, data) : JSON.stringify(frame));
  log("request", frame, format);
}

function sendChosen(event) {
  event.preventDefault();
  let data;
  try {
    data = JSON.parse($("data").value || "{}");
  } catch (error) {
    $("data").setCustomValidity(`Not JSON: ${error.message}`);
    $("data").reportValidity();
    return;
  }
  $("data").setCustomValidity("");
  send(Number($("package").value), data, $("method").value.trim());
}

function subscribe(event) {
  event.preventDefault();
  const pkgId = packageNamed(SUBSCRIBE);
  const topic = $("topic").value.trim();
  if (pkgId !== null && topic) send(pkgId, { topic });
}

window.addEventListener("DOMContentLoaded", () => {
  $("connect-form").addEventListener("submit", connect);
  $("disconnect").addEventListener("click", () => socket && socket.close(1000));
  $("send-form").addEventListener("submit", sendChosen);
  $("subscribe-form").addEventListener("submit", subscribe);
  $("package").addEventListener("change", choosePackage);
  $("data").addEventListener("input", () => {
    $("data").setCustomValidity("");
    jsonToForm();
  });
  $("clear").addEventListener("click", () => $("log").replaceChildren());
  setConnected(false);
  loadPackages().catch((error) => {
    setStatus(`Cannot list the packages: ${error.message}`);
    log("error", String(error.message), "");
  });
});
