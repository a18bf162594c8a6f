// The status page's script: polls /status.json, keeps each channel's recent samples, draws them, posts settings.
"use strict";
const POLL_MS = 2000;
const KEEP = 120;
const $ = (id) => document.getElementById(id);
let serial = 0;
let boot = -1;
let history = {};  // sensor -> { t: [], c: { channel: [] } }
let built = false;

function text(id, value) { $(id).textContent = value; }

function duration(ms) {
  if (ms === undefined) return "–";
  let s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  return (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") + s + "s";
}

function setState(kind, label) {
  const el = $("state");
  el.className = "pill " + kind;
  el.textContent = label;
}

function buildChannels(status) {
  const root = $("channels");
  root.textContent = "";
  const select = $("set-channel");
  for (const ch of status.channels) {
    const card = document.createElement("div");
    card.className = "card";
    card.id = "ch-" + ch.id;
    card.innerHTML = '<h2></h2><div><span class="value">–</span><span class="unit"></span></div>' +
      '<svg viewBox="0 0 100 40" preserveAspectRatio="none"><path d=""/></svg><div class="meta"></div>';
    card.querySelector("h2").textContent = ch.name;
    card.querySelector(".unit").textContent = ch.unit;
    root.appendChild(card);
    const option = document.createElement("option");
    option.value = ch.id;
    option.textContent = ch.name + " (" + ch.id + ")";
    select.appendChild(option);
  }
  built = true;
}

function merge(status) {
  const full = status.recent.after === 0;
  for (const sensor of Object.keys(status.recent.sensors)) {
    const add = status.recent.sensors[sensor];
    let h = history[sensor];
    if (full || !h) h = history[sensor] = { t: [], c: {} };
    h.t = h.t.concat(add.t).slice(-KEEP);
    for (const ch of Object.keys(add.c)) h.c[ch] = (h.c[ch] || []).concat(add.c[ch]).slice(-KEEP);
  }
}

function draw(status) {
  for (const ch of status.channels) {
    const card = $("ch-" + ch.id);
    if (!card) continue;
    card.querySelector(".value").textContent = ch.value === undefined ? "–" : ch.value.toFixed(ch.decimals);
    const values = (history[ch.sensor] && history[ch.sensor].c[ch.id]) || [];
    let min = Math.min.apply(null, values), max = Math.max.apply(null, values);
    if (max - min < 1e-9) { min -= 1; max += 1; }
    let d = "";
    values.forEach((v, i) => {
      const x = values.length < 2 ? 0 : (i * 100) / (values.length - 1);
      const y = 38 - ((v - min) * 36) / (max - min);
      d += (i ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
    });
    card.querySelector("path").setAttribute("d", d);
    card.querySelector(".meta").textContent = values.length
      ? values.length + " samples, " + min.toFixed(ch.decimals) + " – " + max.toFixed(ch.decimals) + " · deadband " + ch.deadband
      : "no sample yet";
  }
}

function render(s) {
  text("device-id", s.device.id);
  document.title = s.device.id + " · xs-mqtt-sensor";
  text("board", s.device.board);
  text("firmware", s.device.firmware);
  text("uptime", duration(s.device.uptimeMs));
  text("boot", s.device.boot);
  text("rssi", s.device.rssi === undefined ? "– (no Wi-Fi)" : s.device.rssi + " dBm");
  text("heap", s.device.heap === undefined ? "– (not reported)" : s.device.heap + " bytes");
  const xs = s.device.xs;
  text("xs", xs ? Math.round((xs.slotBytes + xs.chunkBytes) / 1024) + " KB / " + xs.stackPeakBytes + " bytes" : "– (not reported)");
  text("clock", s.device.wallClockSet ? "set" : "not set yet");
  const b = s.broker;
  text("broker", (b.tls ? "mqtts://" : "mqtt://") + b.host + ":" + b.port);
  text("link", b.state + (b.changedMsAgo === undefined ? "" : " for " + duration(b.changedMsAgo)));
  text("last-error", b.lastError || "none");
  text("reconnects", b.reconnects);
  const q = s.queue;
  text("queue", q.messages + " (" + q.bytes + " bytes" + (q.messages ? ", oldest " + duration(q.oldestAgeMs) : "") + ")");
  text("pending", q.pendingReadings);
  const c = s.counters;
  text("sampled", c.sampled + (c.readFailures ? " (" + c.readFailures + " failed reads)" : ""));
  text("sent", c.sent + " / " + c.acked);
  text("dropped", c.dropped);
  text("seq", c.nextSeq);
  renderStore(s.store);
  if (b.connected) setState("ok", "MQTT connected");
  else setState("bad", "offline (" + b.state + ")");
  const w = s.settings.writable;
  text("settings-mode", w
    ? "Changes need the device's web password (config web_password)."
    : "Read-only: this device has no web_password set, so settings can only change over MQTT.");
  for (const el of $("settings-form").elements) el.disabled = !w;
  if (!$("set-interval").value) $("set-interval").placeholder = Object.values(s.settings.intervalMs).join(", ");
  if (!$("set-heartbeat").value) $("set-heartbeat").placeholder = String(s.settings.heartbeatS);
}

// The flash log's health (null: another store, which has no wear figures). Years left is at this boot's erase rate.
function renderStore(f) {
  $("store-figures").hidden = !f;
  $("store-none").hidden = !!f;
  if (!f) return;
  const n = f.sectors;
  text("store-sectors", n.used + " used, " + n.free + " free, " + n.retired + " retired of " + n.total + (n.worn ? " (" + n.worn + " past " + f.endurance + " erases)" : ""));
  text("store-erases", "min " + f.erases.min + " · mean " + f.erases.mean + " · max " + f.erases.max + " of " + f.endurance);
  text("store-rate", f.erases.sinceBoot + " (" + f.erases.perDay + " a day)");
  text("store-written", f.programmedBytes < 10240 ? f.programmedBytes + " bytes" : Math.round(f.programmedBytes / 1024) + " KB");
  const y = f.yearsLeft, d = Math.round(y * 365.25);
  text("store-years", y === null ? "not enough data (no erase since boot)" : y === 0 ? "none: no live sector has an erase left"
    : (y >= 1 ? y + " years" : d >= 1 ? d + " days" : "under a day") + " at this rate");
}

async function poll() {
  try {
    const response = await fetch("status.json?since=" + serial, { cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const s = await response.json();
    if (s.device.boot !== boot) { history = {}; boot = s.device.boot; if (s.recent.after !== 0) { serial = 0; return; } }
    if (!built) buildChannels(s);
    merge(s);
    serial = s.serial;
    render(s);
    draw(s);
  } catch (error) {
    setState("unknown", "device unreachable");
  }
}

async function post(name, body) {
  const password = $("set-password").value;
  const response = await fetch("settings/" + name, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-requested-with": "status-page",
      authorization: "Basic " + btoa("admin:" + unescape(encodeURIComponent(password))),
    },
    body: JSON.stringify(body),
  });
  const type = response.headers.get("content-type") || "";
  const reply = type.indexOf("json") >= 0 ? await response.json() : { ok: false, error: (await response.text()).trim() };
  if (!reply.ok) throw new Error(reply.error);
  return reply;
}

$("settings-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const result = $("settings-result");
  const jobs = [];
  const interval = $("set-interval").value.trim();
  const heartbeat = $("set-heartbeat").value.trim();
  const deadband = $("set-deadband").value.trim();
  if (interval) jobs.push(["interval", { ms: Number(interval) }]);
  if (heartbeat) jobs.push(["heartbeat", { s: Number(heartbeat) }]);
  if (deadband) jobs.push(["deadband", $("set-channel").value ? { value: deadband, channel: $("set-channel").value } : { value: deadband }]);
  if (!jobs.length) { result.className = "bad"; result.textContent = "Nothing to change: fill in a field."; return; }
  try {
    for (const [name, body] of jobs) await post(name, body);
    result.className = "ok";
    result.textContent = "Saved: " + jobs.map((j) => j[0]).join(", ") + ".";
    for (const id of ["set-interval", "set-heartbeat", "set-deadband"]) $(id).value = "";
  } catch (error) {
    result.className = "bad";
    result.textContent = "Refused: " + error.message;
  }
  poll();
});

text("poll", POLL_MS / 1000);
poll();
setInterval(poll, POLL_MS);
