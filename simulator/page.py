"""``GET /``: a small WhatsApp-like phone to chat with a business number.

Inline HTML/CSS/JS, no external assets.  Every piece of data is put on the
page with ``textContent`` / ``setAttribute`` (never ``innerHTML``), and link
targets are restricted to http(s).
"""
from __future__ import annotations

from aiohttp import web

PAGE = r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tsunagi · WhatsApp simulator</title>
<style>
  :root { --green:#008069; --bubble-out:#d9fdd3; --bubble-in:#fff; --bg:#efeae2; --tick:#53bdeb; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; background:#d1d7db;
         display:flex; gap:24px; justify-content:center; align-items:flex-start; padding:24px; min-height:100vh; }
  .panel { background:#fff; border-radius:12px; padding:16px; width:260px; box-shadow:0 1px 3px rgba(0,0,0,.15); }
  .panel h1 { font-size:16px; margin:0 0 12px; color:var(--green); }
  .panel label { display:block; font-size:12px; color:#54656f; margin:10px 0 4px; }
  .panel input, .panel select { width:100%; padding:8px; border:1px solid #d1d7db; border-radius:6px; font:inherit; }
  .panel button { margin-top:12px; width:100%; padding:9px; border:0; border-radius:6px; background:var(--green);
                  color:#fff; font:inherit; cursor:pointer; }
  .panel .hint { font-size:12px; color:#667781; margin-top:12px; }
  .phone { width:380px; height:720px; background:var(--bg); border-radius:28px; overflow:hidden; display:flex;
           flex-direction:column; box-shadow:0 8px 30px rgba(0,0,0,.25); border:10px solid #111b21; }
  .top { background:var(--green); color:#fff; padding:12px 14px; display:flex; gap:10px; align-items:center; }
  .avatar { width:36px; height:36px; border-radius:50%; background:#dfe5e7; color:var(--green); display:flex;
            align-items:center; justify-content:center; font-weight:600; }
  .top .name { font-weight:600; } .top .sub { font-size:12px; opacity:.85; }
  .chat { flex:1; overflow-y:auto; padding:10px 12px; display:flex; flex-direction:column; gap:4px; }
  .row { display:flex; flex-direction:column; max-width:82%; }
  .row.biz { align-self:flex-start; } .row.me { align-self:flex-end; align-items:flex-end; }
  .bubble { background:var(--bubble-in); border-radius:8px; padding:6px 8px 4px; box-shadow:0 1px .5px rgba(0,0,0,.13);
            white-space:pre-wrap; word-wrap:break-word; overflow-wrap:anywhere; }
  .me .bubble { background:var(--bubble-out); }
  .bubble .hdr { font-weight:600; margin-bottom:2px; } .bubble .ftr { font-size:12px; color:#667781; margin-top:2px; }
  .bubble img.media { max-width:100%; border-radius:6px; display:block; } .bubble img.sticker { width:120px; }
  .bubble video, .bubble audio { max-width:100%; display:block; }
  .bubble .doc { display:block; padding:8px; background:rgba(0,0,0,.05); border-radius:6px; color:#111b21; }
  .meta { font-size:11px; color:#667781; text-align:right; margin-top:2px; }
  .tick { margin-left:4px; } .tick.read { color:var(--tick); } .tick.failed { color:#d93025; }
  .err { font-size:12px; color:#d93025; margin-top:2px; }
  .reply { margin-top:3px; display:flex; flex-direction:column; gap:3px; width:100%; }
  .reply button, .reply a { background:#fff; border:0; border-radius:8px; padding:8px; color:#027eb5; font:inherit;
          cursor:pointer; text-align:center; text-decoration:none; box-shadow:0 1px .5px rgba(0,0,0,.13); }
  .reply button:disabled { color:#8696a0; cursor:default; }
  .rows { background:#fff; border-radius:8px; margin-top:3px; box-shadow:0 1px .5px rgba(0,0,0,.13); }
  .rows .sec { font-size:12px; color:var(--green); padding:6px 10px 2px; }
  .rows button { display:block; width:100%; text-align:left; border:0; background:none; padding:8px 10px; cursor:pointer;
                 font:inherit; border-top:1px solid #f0f2f5; }
  .rows button small { display:block; color:#667781; }
  .system { align-self:center; background:#fff5c4; color:#54656f; font-size:12px; padding:4px 10px; border-radius:6px; }
  .composer { display:flex; gap:6px; padding:8px; background:#f0f2f5; align-items:center; }
  .composer input[type=text] { flex:1; border:0; border-radius:20px; padding:10px 14px; font:inherit; }
  .composer button, .composer label { border:0; background:var(--green); color:#fff; width:40px; height:40px;
           border-radius:50%; cursor:pointer; font-size:18px; display:flex; align-items:center; justify-content:center; }
  .composer label { background:#8696a0; } .composer input[type=file] { display:none; }
</style>
</head>
<body>
<section class="panel" aria-label="Settings">
  <h1>WhatsApp simulator</h1>
  <label for="me">Your phone number (wa_id), or a BSUID for a username-only user</label>
  <input id="me" placeholder="15551234567 or US.13491208655302741918">
  <label for="myusername">Your username (optional)</label>
  <input id="myusername" placeholder="mika">
  <label for="myname">Your name</label>
  <input id="myname" placeholder="Alex">
  <label for="biz">Business number</label>
  <select id="biz"></select>
  <button id="open">Open chat</button>
  <p class="hint" id="status"></p>
</section>
<main class="phone" aria-label="Chat">
  <header class="top"><div class="avatar" id="avatar">B</div>
    <div><div class="name" id="bizname">Business</div><div class="sub" id="bizsub">pick a number</div></div></header>
  <div class="chat" id="chat" aria-live="polite"></div>
  <form class="composer" id="composer">
    <label title="Attach a file">+<input type="file" id="file"></label>
    <input type="text" id="text" placeholder="Message" autocomplete="off" disabled>
    <button type="submit" title="Send" aria-label="Send">&#10148;</button>
  </form>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const chat = $("chat");
const state = { pnid: null, me: null, name: null, cursor: 0, poll: 0, bubbles: new Map(), autoRead: true, numbers: [] };

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
// WhatsApp's formatting (*bold*, _italic_, ~strike~, ```mono```) as DOM nodes, never HTML.
const WA_FORMAT = /```([\s\S]+?)```|(?<![\w*])\*(\S(?:[^*\n]*\S)?)\*(?![\w*])|(?<![\w_])_(\S(?:[^_\n]*\S)?)_(?![\w_])|(?<![\w~])~(\S(?:[^~\n]*\S)?)~(?![\w~])/g;
function formatted(cls, text) {
  const box = el("div", cls);
  const s = text === undefined || text === null ? "" : String(text);
  let last = 0;
  for (const m of s.matchAll(WA_FORMAT)) {
    if (m.index > last) box.appendChild(document.createTextNode(s.slice(last, m.index)));
    const tag = m[1] !== undefined ? "code" : m[2] !== undefined ? "b" : m[3] !== undefined ? "i" : "s";
    box.appendChild(el(tag, "", m[1] ?? m[2] ?? m[3] ?? m[4]));
    last = m.index + m[0].length;
  }
  if (last < s.length) box.appendChild(document.createTextNode(s.slice(last)));
  return box;
}
function safeUrl(u) {
  try { const url = new URL(String(u), location.href); return (url.protocol === "http:" || url.protocol === "https:") ? url.href : null; }
  catch (_) { return null; }
}
function mediaSrc(obj) {
  if (!obj) return null;
  if (obj.id) return "/_sim/media/" + encodeURIComponent(obj.id);
  return obj.link ? safeUrl(obj.link) : null;
}
async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  const r = await fetch(path, opts);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((data.error && (data.error.message || data.error)) || ("HTTP " + r.status));
  return data;
}
function say(msg) { $("status").textContent = msg; }

async function send(body) {
  if (!state.pnid) return;
  body.phone_number_id = state.pnid;
  body.profile_name = state.name;
  if (state.username) body.username = state.username;
  try {
    const r = await api("POST", "/_sim/users/" + encodeURIComponent(state.me) + "/messages", body);
    say(r.webhook_status === 200 ? "Delivered to the business webhook." :
        "Webhook answered " + (r.webhook_status === null ? "nothing (unreachable)" : r.webhook_status) + "; Meta would retry.");
  } catch (e) { say("Not sent: " + e.message); }
}

function ticks(m) {
  const t = el("span", "tick");
  if (m.status === "failed") { t.textContent = "\u26A0"; t.classList.add("failed"); }
  else if (m.status === "read") { t.textContent = "\u2713\u2713"; t.classList.add("read"); }
  else if (m.status === "delivered" || m.status === "received") t.textContent = "\u2713\u2713";
  else if (m.status === "sent") t.textContent = "\u2713";
  else t.textContent = "\u23F1";
  t.title = m.status;
  return t;
}

function renderMedia(bubble, type, obj) {
  const src = mediaSrc(obj);
  if (type === "image" || type === "sticker") {
    if (src) { const img = el("img", type === "sticker" ? "sticker" : "media"); img.setAttribute("src", src); img.setAttribute("alt", type); bubble.appendChild(img); }
  } else if (type === "video" || type === "audio") {
    if (src) { const v = el(type); v.setAttribute("controls", ""); v.setAttribute("src", src); bubble.appendChild(v); }
  } else if (type === "document") {
    const a = el("a", "doc", "\uD83D\uDCC4 " + (obj.filename || "document"));
    if (src) { a.setAttribute("href", src); a.setAttribute("target", "_blank"); a.setAttribute("rel", "noopener noreferrer"); }
    bubble.appendChild(a);
  }
  if (obj && obj.caption) bubble.appendChild(el("div", "", obj.caption));
}

function renderInteractive(row, bubble, m) {
  const it = m.content || {};
  if (it.header) {
    if (it.header.type === "text") bubble.appendChild(el("div", "hdr", it.header.text));
    else renderMedia(bubble, it.header.type, it.header[it.header.type]);
  }
  bubble.appendChild(formatted("", (it.body || {}).text));
  if (it.footer) bubble.appendChild(el("div", "ftr", it.footer.text));
  const reply = el("div", "reply");
  const action = it.action || {};
  if (it.type === "button") {
    for (const b of action.buttons || []) {
      const btn = el("button", "", b.reply.title);
      btn.type = "button";
      btn.addEventListener("click", () => send({ type: "button_reply", context_message_id: m.wamid, button_reply: { id: b.reply.id } }));
      reply.appendChild(btn);
    }
  } else if (it.type === "list") {
    const open = el("button", "", "\u2630 " + (action.button || "Menu"));
    open.type = "button";
    const rows = el("div", "rows"); rows.hidden = true;
    for (const s of action.sections || []) {
      if (s.title) rows.appendChild(el("div", "sec", s.title));
      for (const r of s.rows || []) {
        const b = el("button", "", r.title); b.type = "button";
        if (r.description) b.appendChild(el("small", "", r.description));
        b.addEventListener("click", () => { rows.hidden = true; send({ type: "list_reply", context_message_id: m.wamid, list_reply: { id: r.id } }); });
        rows.appendChild(b);
      }
    }
    open.addEventListener("click", () => { rows.hidden = !rows.hidden; });
    reply.appendChild(open); reply.appendChild(rows);
  } else if (it.type === "cta_url") {
    const p = action.parameters || {};
    const a = el("a", "", "\u2197 " + (p.display_text || "Open"));
    const href = safeUrl(p.url);
    if (href) { a.setAttribute("href", href); a.setAttribute("target", "_blank"); a.setAttribute("rel", "noopener noreferrer"); }
    reply.appendChild(a);
  }
  row.appendChild(reply);
}

function renderTemplate(row, bubble, m) {
  const r = m.rendered || {};
  if (r.header) bubble.appendChild(el("div", "hdr", r.header));
  bubble.appendChild(formatted("", r.body));
  if (r.footer) bubble.appendChild(el("div", "ftr", r.footer));
  const quick = (r.buttons || []).filter((b) => b.type === "QUICK_REPLY");
  if (quick.length) {
    const reply = el("div", "reply");
    for (const b of quick) {
      const btn = el("button", "", b.text); btn.type = "button";
      btn.addEventListener("click", () => send({ type: "button", context_message_id: m.wamid, button: { text: b.text, payload: b.payload } }));
      reply.appendChild(btn);
    }
    row.appendChild(reply);
  }
}

function renderContent(row, bubble, m) {
  const c = m.content;
  switch (m.type) {
    case "text": bubble.appendChild(formatted("", c && c.body)); break;
    case "image": case "video": case "audio": case "document": case "sticker": renderMedia(bubble, m.type, c || {}); break;
    case "location": bubble.appendChild(el("div", "", "\uD83D\uDCCD " + [c.name, c.address].filter(Boolean).join(", ") + " (" + c.latitude + ", " + c.longitude + ")")); break;
    case "contacts": for (const k of c || []) bubble.appendChild(el("div", "", "\uD83D\uDC64 " + ((k.name && k.name.formatted_name) || "contact"))); break;
    case "interactive":
      if (m.direction === "outbound") renderInteractive(row, bubble, m);
      else { const r = c[c.type] || {}; bubble.appendChild(el("div", "", r.title)); if (r.description) bubble.appendChild(el("div", "ftr", r.description)); }
      break;
    case "button": bubble.appendChild(el("div", "", c.text)); break;
    case "template": renderTemplate(row, bubble, m); break;
    case "reaction": bubble.appendChild(el("div", "", (c.emoji || "(reaction removed)") + " reacted to a message")); break;
    default: bubble.appendChild(el("div", "", "[" + m.type + "]"));
  }
}

function render(m) {
  if (m.phone_number_id !== state.pnid || m.wa_id !== state.me) return;
  const row = el("div", "row " + (m.direction === "outbound" ? "biz" : "me"));
  const bubble = el("div", "bubble");
  row.appendChild(bubble);
  renderContent(row, bubble, m);
  const meta = el("div", "meta", new Date(Number(m.timestamp) * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
  meta.appendChild(ticks(m));
  bubble.appendChild(meta);
  for (const e of m.errors || []) bubble.appendChild(el("div", "err", "(#" + e.code + ") " + e.title + (e.error_data && e.error_data.details ? ": " + e.error_data.details : "")));
  const old = state.bubbles.get(m.wamid);
  if (old) { old.replaceWith(row); }
  else {
    const atBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 40;
    chat.appendChild(row);
    if (atBottom || m.direction === "inbound") chat.scrollTop = chat.scrollHeight;
  }
  state.bubbles.set(m.wamid, row);
  if (!state.autoRead && m.direction === "outbound" && (m.status === "delivered" || m.status === "sent") && document.visibilityState === "visible") {
    api("POST", "/_sim/users/" + encodeURIComponent(state.me) + "/read", { phone_number_id: state.pnid, message_ids: [m.wamid] }).catch(() => {});
  }
}

async function poll(gen) {
  while (gen === state.poll) {
    try {
      const q = new URLSearchParams({ since: state.cursor, phone_number_id: state.pnid, wa_id: state.me, timeout: 25 });
      const r = await api("GET", "/_sim/events?" + q);
      if (gen !== state.poll) return;
      if (r.reset) { state.cursor = r.cursor; await openChat(); return; }
      state.cursor = r.cursor;
      for (const e of r.events) render(e.message);
    } catch (e) { say("Lost the simulator: " + e.message); await new Promise((ok) => setTimeout(ok, 2000)); }
  }
}

async function openChat() {
  const raw = $("me").value.trim();
  const me = /^[A-Z]{2}\.[0-9A-Za-z.]+$/.test(raw) ? raw : raw.replace(/[^0-9]/g, "");  // a BSUID, or digits
  if (me.length < 5) { say("Enter your phone number (digits) or a BSUID."); return; }
  state.me = me; state.username = $("myusername").value.trim().replace(/^@/, ""); state.name = $("myname").value.trim() || "User " + me.slice(-4); state.pnid = $("biz").value;
  localStorage.setItem("sim.me", me); localStorage.setItem("sim.name", state.name); localStorage.setItem("sim.pnid", state.pnid);
  const n = state.numbers.find((x) => x.phone_number_id === state.pnid) || {};
  $("bizname").textContent = n.verified_name || "Business"; $("bizsub").textContent = "+" + (n.display_phone_number || "");
  $("avatar").textContent = (n.verified_name || "B").slice(0, 1).toUpperCase();
  chat.replaceChildren(); state.bubbles.clear();
  const t = await api("GET", "/_sim/users/" + encodeURIComponent(me) + "/messages?phone_number_id=" + encodeURIComponent(state.pnid));
  for (const m of t.messages) render(m);
  state.cursor = t.event_cursor;
  $("text").disabled = false; $("text").focus();
  say(t.window_open ? "Customer service window open." : "No open window: the business can only send templates.");
  poll(++state.poll);
}

$("open").addEventListener("click", openChat);
$("composer").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("text").value.trim();
  if (!text || !state.pnid) return;
  $("text").value = "";
  send({ type: "text", text });
});
$("file").addEventListener("change", () => {
  const f = $("file").files[0];
  if (!f || !state.pnid) return;
  const mime = f.type || "application/octet-stream";
  const type = mime === "image/webp" ? "sticker" : mime.startsWith("image/") ? "image" : mime.startsWith("video/") ? "video" : mime.startsWith("audio/") ? "audio" : "document";
  const reader = new FileReader();
  reader.onload = () => {
    const data = String(reader.result).split(",", 2)[1] || "";
    send({ type, data, mime_type: mime, filename: f.name });
    $("file").value = "";
  };
  reader.readAsDataURL(f);
});

(async function init() {
  const params = new URLSearchParams(location.search);  // ?wa_id=&name=&phone_number_id= prefill
  $("me").value = params.get("wa_id") || localStorage.getItem("sim.me") || "";
  $("myname").value = params.get("name") || localStorage.getItem("sim.name") || "";
  try {
    const [nums, settings] = await Promise.all([api("GET", "/_sim/numbers"), api("GET", "/_sim/settings")]);
    state.numbers = nums.numbers; state.autoRead = settings.settings.auto_read;
    for (const n of nums.numbers) {
      const o = el("option", "", (n.verified_name || "Business") + " \u00B7 +" + n.display_phone_number);
      o.value = n.phone_number_id; $("biz").appendChild(o);
    }
    const saved = params.get("phone_number_id") || localStorage.getItem("sim.pnid");
    if (saved && nums.numbers.some((n) => n.phone_number_id === saved)) $("biz").value = saved;
    if ($("me").value) openChat();
  } catch (e) { say("Cannot reach the simulator: " + e.message); }
})();
</script>
</body>
</html>
"""


async def index(request: web.Request) -> web.Response:
    return web.Response(
        text=PAGE,
        content_type="text/html",
        headers={
            "Content-Security-Policy": "default-src 'self'; img-src 'self' http: https: data:; "
                                       "media-src 'self' http: https:; style-src 'unsafe-inline'; "
                                       "script-src 'unsafe-inline'; connect-src 'self'",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def favicon(request: web.Request) -> web.Response:
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/favicon.ico", favicon)
