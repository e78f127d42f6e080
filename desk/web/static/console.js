/* tsunagi operator console.
 *
 * Safety rule: everything that comes from data (what customers wrote, their names,
 * anything from the API) goes into the page as text (textContent / text nodes via
 * `h()`), never as HTML. The only markup built from strings is the static icon set.
 */
"use strict";

// ---------------------------------------------------------------- helpers
const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// WhatsApp's formatting (*bold*, _italic_, ~strike~, ```mono```) as DOM nodes, never HTML: the one
// renderer of the console (transcript and list previews), the simulator's rules (simulator/page.py).
// Text goes in as text nodes only, so markup in a message stays text.
const WA_FORMAT = /```([\s\S]+?)```|(?<![\w*])\*(\S(?:[^*\n]*\S)?)\*(?![\w*])|(?<![\w_])_(\S(?:[^_\n]*\S)?)_(?![\w_])|(?<![\w~])~(\S(?:[^~\n]*\S)?)~(?![\w~])/g;
function waText(text, cls = "text") {
  const box = h("span", { class: cls });
  const s = text == null ? "" : String(text);
  let last = 0;
  for (const m of s.matchAll(WA_FORMAT)) {
    if (m.index > last) box.append(document.createTextNode(s.slice(last, m.index)));
    const tag = m[1] !== undefined ? "code" : m[2] !== undefined ? "b" : m[3] !== undefined ? "i" : "s";
    box.append(h(tag, { text: m[1] ?? m[2] ?? m[3] ?? m[4] }));
    last = m.index + m[0].length;
  }
  if (last < s.length) box.append(document.createTextNode(s.slice(last)));
  return box;
}

const circle = (cx, cy, r) => `M${cx - r} ${cy}a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0`;
const ICONS = {
  clock: [circle(12, 12, 9), "M12 7v5l3 2"],
  chat: ["M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"],
  alert: ["M10.3 3.9 2.4 18a2 2 0 0 0 1.7 3h15.8a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z", "M12 9v4", "M12 17h.01"],
  archive: ["M3 4h18v5H3z", "M5 9v11h14V9", "M10 13h4"],
  bot: ["M5 9h14v10a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1z", "M12 5v4", circle(12, 4, 1), "M9 14h.01", "M15 14h.01", "M2 13v3", "M22 13v3"],
  phone: ["M5 3h4l2 5-2.5 1.5a11 11 0 0 0 6 6L16 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 5a2 2 0 0 1 2-2z"],
  users: [circle(9, 8, 3.5), "M2.5 20c0-3.6 2.9-6.5 6.5-6.5s6.5 2.9 6.5 6.5", "M16 4.6a3.5 3.5 0 0 1 0 6.8", "M18 14c2 .9 3.5 3 3.5 6"],
  timer: [circle(12, 13, 8), "M12 9v4l2.5 2", "M9 2h6"],
  zap: ["M13 2 4 14h7l-1 8 9-12h-7z"],
  tag: ["M3 12V3h9l9 9-9 9z", circle(7.5, 7.5, 1.3)],
  search: [circle(11, 11, 7), "m20 20-4-4"],
  send: ["M22 2 11 13", "M22 2 15 22l-4-9-9-4z"],
  clip: ["M21 11.5 12.5 20a5 5 0 0 1-7-7L14 4.5a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7.5"],
  book: ["M4 4h6a3 3 0 0 1 3 3v13a2 2 0 0 0-2-2H4z", "M20 4h-6a3 3 0 0 0-3 3v13a2 2 0 0 1 2-2h7z"],
  transfer: ["M4 8h14l-4-4", "M20 16H6l4 4"],
  check: ["M5 12.5 10 17.5 20 7"],
  x: ["M6 6l12 12", "M18 6 6 18"],
  ticket: ["M4 6h16v4a2 2 0 0 0 0 4v4H4v-4a2 2 0 0 0 0-4z", "M14 6v12"],
  upload: ["M12 15V3", "M7 8l5-5 5 5", "M4 15v5h16v-5"],
  file: ["M6 2h8l5 5v15H6z", "M14 2v5h5", "M9 13h6", "M9 17h6"],
  take: ["M12 3v12", "M7 10l5 5 5-5", "M4 17v4h16v-4"],
  lock: ["M5 11h14v10H5z", "M8 11V7a4 4 0 0 1 8 0v4"],
  info: [circle(12, 12, 9), "M12 11v6", "M12 7.5h.01"],
  slash: ["M15 4 9 20"],
  inbox: ["M3 13h5l2 3h4l2-3h5", "M5 5h14l2 8v6H3v-6z"],
  coins: [circle(9, 9, 6), circle(15, 15, 6)],
  chart: ["M4 20V4", "M4 20h16", "M8 16v-5", "M12 16V8", "M16 16v-8", "M20 16v-3"],
};
function icon(name, cls = "icon") {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", cls);
  svg.setAttribute("aria-hidden", "true");
  for (const d of ICONS[name] || []) {
    const p = document.createElementNS(NS, "path");
    p.setAttribute("d", d);
    svg.append(p);
  }
  return svg;
}

const S = {
  me: null, csrf: null, view: "inbox", list: null, chatId: null, adminPage: null,
  counts: {}, chats: [], detail: null, messages: [], msgKey: "", offset: 0,
  canned: [], articles: [], rules: [], tags: [], drafts: new Map(), search: "",
};
// Roles with one page of their own (they answer no chats).
const ROLE_PAGE = { manager: "reports", trainer: "trainer" };
const LISTS = {
  waiting: { title: "Waiting", group: "waiting", empty: ["Nobody is waiting", "Chats the bot hands over to your departments queue here."] },
  mine: { title: "My chats", empty: ["No open chats", "Pick a waiting chat, or go online to get chats assigned."] },
  unattended: { title: "Unattended", group: "unattended", empty: ["Nothing unattended", "Chats nobody joined in time land here; they close automatically."] },
  closed: { title: "Closed", empty: ["No closed chats yet", "The 50 most recently closed chats of your departments."] },
  bot: { title: "With the bot", empty: ["No chats with the bot", "Conversations the bot is handling right now."] },
};

class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

async function api(method, path, body, { background = false, headers = {} } = {}) {
  if (method !== "GET") alertsQuiet();  // alerts.js: no chime for what the operator just did
  const opts = { method, credentials: "same-origin", headers: { ...headers } };
  if (method !== "GET") opts.headers["X-CSRF-Token"] = S.csrf || "";
  if (background) opts.headers["X-Background"] = "1";
  if (body instanceof FormData) opts.body = body;
  else if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, opts);
  } catch (_) {
    throw new ApiError("The desk cannot be reached. Check your connection.", 0);
  }
  let data = null;
  try { data = await resp.json(); } catch (_) { /* empty or not JSON */ }
  if (resp.status === 401) { signedOut(); throw new ApiError((data && data.error) || "Signed out", 401); }
  if (!resp.ok) throw new ApiError((data && data.error) || `${resp.status} ${resp.statusText}`, resp.status);
  return data;
}

function toast(text, kind = "") {
  const el = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status", title: "Click to dismiss", onclick: () => el.remove() },
    icon(kind === "error" ? "alert" : kind === "ok" ? "check" : "info"), h("span", { text }));
  $("#toasts").append(el);
  setTimeout(() => el.remove(), kind === "error" ? 8000 : 4000);
}

function signedOut() {
  if (S.leaving) return;
  S.leaving = true;
  location.href = "/login?expired=1";
}

// ---- time and numbers
const now = () => Date.now() + S.offset;
const parse = (iso) => (iso ? new Date(iso).getTime() : null);
function syncClock(serverNow) { if (serverNow) S.offset = parse(serverNow) - Date.now(); }
function duration(ms, { seconds = true } = {}) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400), hrs = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (d) return `${d}d ${hrs}h`;
  if (hrs) return `${hrs}h ${String(m).padStart(2, "0")}m`;
  if (m) return seconds ? `${m}m ${String(sec).padStart(2, "0")}s` : `${m}m`;
  return seconds ? `${sec}s` : "now";
}
function relative(iso) {
  const t = parse(iso);
  if (!t) return "";
  const diff = now() - t;
  if (diff < 60000) return "now";
  if (diff < 3600000) return `${Math.floor(diff / 60000)}m`;
  if (diff < 86400000) return `${Math.floor(diff / 3600000)}h`;
  if (diff < 7 * 86400000) return `${Math.floor(diff / 86400000)}d`;
  return new Date(t).toLocaleDateString([], { day: "numeric", month: "short" });
}
const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "");
function stamp(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date(now()).toDateString();
  if (sameDay) return `Today ${clock(iso)}`;
  if (d.toDateString() === new Date(now() + 86400000).toDateString()) return `Tomorrow ${clock(iso)}`;
  return d.toLocaleString([], { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}
function dayLabel(iso) {
  const d = new Date(iso);
  const today = new Date(now());
  const yesterday = new Date(now() - 86400000);
  if (d.toDateString() === today.toDateString()) return "Today";
  if (d.toDateString() === yesterday.toDateString()) return "Yesterday";
  return d.toLocaleDateString([], { weekday: "long", day: "numeric", month: "long", year: "numeric" });
}
const MB = 1024 * 1024;
const human = (n) => (n >= MB / 10 ? `${(n / MB).toFixed(1)} MB` : n >= 1024 ? `${Math.round(n / 1024)} KB` : `${n} bytes`);

function initials(name, fallback) {
  const words = String(name || "").trim().split(/\s+/).filter(Boolean);
  if (!words.length) return String(fallback || "?").slice(-2);
  return (words[0][0] + (words.length > 1 ? words[words.length - 1][0] : "")).toUpperCase();
}
const PALETTE = ["#2563eb", "#0d9488", "#7c3aed", "#db2777", "#ea580c", "#0891b2", "#4f46e5", "#059669", "#b45309", "#9333ea"];
function avatar(name, key, cls = "avatar") {
  let hash = 0;
  for (const ch of String(key || name || "")) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const el = h("span", { class: cls, text: initials(name, key) });
  el.style.background = PALETTE[hash % PALETTE.length];
  return el;
}
// Who a contact is without a name: the phone, else "@username" (no phone needed), else the id.
const handle = (c) => c.handle || c.phone || c.wa_id;
const displayName = (c) => c.name || handle(c);

// ---------------------------------------------------------------- modal
function modal({ title, body, actions }) {
  const root = $("#modal-root");
  const close = () => { root.replaceChildren(); document.removeEventListener("keydown", onKey); };
  const onKey = (e) => { if (e.key === "Escape") close(); };
  const footer = h("footer");
  for (const a of actions || []) {
    const btn = h("button", { class: `btn ${a.kind || ""}`, type: "button" }, a.icon ? icon(a.icon) : null, a.label);
    btn.addEventListener("click", async () => {
      if (!a.run) return close();
      btn.disabled = true;
      try { if ((await a.run()) !== false) close(); } finally { btn.disabled = false; }
    });
    footer.append(btn);
  }
  const box = h("div", { class: "modal", role: "dialog", "aria-modal": "true", "aria-label": title },
    h("header", { text: title }), h("div", { class: "content" }, body), footer);
  const backdrop = h("div", { class: "backdrop", onclick: (e) => { if (e.target === backdrop) close(); } }, box);
  root.replaceChildren(backdrop);
  document.addEventListener("keydown", onKey);
  const first = box.querySelector("input, textarea, select");
  if (first) setTimeout(() => first.focus(), 0);
  return { close, box };
}

// ---------------------------------------------------------------- boot
async function boot() {
  for (const el of $$("[data-icon]")) el.replaceWith(icon(el.dataset.icon));
  try {
    await loadMe();
  } catch (_) { return; }
  const [rules, canned, articles, tags] = await Promise.all([
    api("GET", "/api/attachment-rules"), api("GET", "/api/canned"), api("GET", "/api/articles"), api("GET", "/api/tags")]);
  Object.assign(S, { rules, canned, articles, tags });
  // A manager reads the reports and nothing else (read-only; desk.web.context).
  // A trainer sees the bot inbox and nothing else (desk.web.context).
  const manager = S.me.role === "manager" || S.me.role === "trainer", own = ROLE_PAGE[S.me.role];
  for (const el of $$(".admin-only")) el.hidden = !(S.me.role === "admin" || (manager && (el.dataset.admin === own || el.classList.contains("nav-section"))));
  if (manager) for (const el of $$(".nav-item[data-list], .nav-item[data-records], .nav-section:not(.admin-only), #status-switch")) el.hidden = true;
  $("#status-switch").addEventListener("click", (e) => {
    const btn = e.target.closest("button[data-status]");
    if (btn) setStatus(btn.dataset.status);
  });
  $("#signout").addEventListener("click", signOut);
  const alertsBtn = S.me.role === "manager" ? null : alertsButton();  // alerts.js
  if (alertsBtn) $("#signout").before(alertsBtn);
  $("#search").addEventListener("input", (e) => { S.search = e.target.value.trim().toLowerCase(); renderList(); });
  buildConversation();
  window.addEventListener("hashchange", route);
  await loadCounts();
  if (!location.hash) history.replaceState(null, "", ROLE_PAGE[S.me.role] ? `#/admin/${ROLE_PAGE[S.me.role]}` : `#/inbox/${S.counts.mine ? "mine" : "waiting"}`);
  await route();
  connectEvents();
  setInterval(tick, 1000);
  // Idle means nobody touched the page: typing a long reply keeps the session alive.
  for (const type of ["keydown", "pointerdown"]) document.addEventListener(type, activity, { passive: true });
}

let lastTouch = Date.now();
function activity() {
  if (Date.now() - lastTouch < 5 * 60000) return;
  lastTouch = Date.now();
  api("GET", "/api/me").catch(() => {});
}

async function loadMe(background = false) {
  const me = await api("GET", "/api/me", undefined, { background });
  S.me = me;
  S.csrf = me.csrf_token;
  $("#me-name").textContent = me.name;
  $("#me-email").textContent = `${me.role === "admin" ? "Admin" : "Operator"} · ${me.departments.map((d) => d.name).join(", ") || "no department"}`;
  const av = $("#me-avatar");
  av.firstChild && av.firstChild.nodeType === 3 ? (av.firstChild.textContent = initials(me.name)) : av.prepend(document.createTextNode(initials(me.name)));
  av.style.background = "#2563eb";
  renderStatus();
}

function renderStatus() {
  $("#me-dot").className = `dot ${S.me.status}`;
  for (const b of $$("#status-switch button")) {
    b.classList.toggle("on", b.dataset.status === S.me.status);
    b.setAttribute("aria-checked", String(b.dataset.status === S.me.status));
    b.setAttribute("role", "radio");
  }
}

async function setStatus(status) {
  try {
    const r = await api("PUT", "/api/me/status", { status });
    S.me.status = r.status;
    renderStatus();
    toast(status === "online" ? "You are online: waiting chats of your departments come to you."
      : status === "away" ? "You are away: no new chats are assigned to you." : "You are offline.", "ok");
    if (r.assigned && r.assigned.length) scheduleRefresh();
  } catch (e) { toast(e.message, "error"); }
}

async function signOut() {
  // Leaving first: a refresh or the event stream answered 401 while the sign-out is on its
  // way must not send the page to "your session expired" instead.
  S.leaving = true;
  try { await api("POST", "/api/logout"); } catch (_) { /* signed out anyway */ }
  location.href = "/login";
}

let routeSeq = 0;
async function route() {
  const seq = ++routeSeq;
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  if (parts[0] === "records" && RECORDS[parts[1]]) {
    S.view = "records";
    S.recordsPage = parts[1];
    $("#app").className = "app mode-admin";
    markNav();
    await renderRecords(parts[1], parts[2] ? Number(parts[2]) || null : null);
    return;
  }
  const own = ROLE_PAGE[S.me.role];  // a manager's or a trainer's one page
  if (own && !(parts[0] === "admin" && parts[1] === own)) {
    history.replaceState(null, "", `#/admin/${own}`);
    parts.splice(0, parts.length, "admin", own);
  }
  if (parts[0] === "admin" && (S.me.role === "admin" || own)) {
    S.view = "admin";
    S.adminPage = parts[1] || "numbers";
    $("#app").className = "app mode-admin";
    markNav();
    await renderAdmin(S.adminPage);
    return;
  }
  const list = LISTS[parts[1]] ? parts[1] : "waiting";
  const chatId = parts[2] ? Number(parts[2]) || null : null;
  const listChanged = list !== S.list || S.view !== "inbox";
  S.view = "inbox";
  $("#app").className = "app mode-inbox";
  S.list = list;
  markNav();
  if (listChanged) {
    $("#list-title").textContent = LISTS[list].title;
    $("#chat-list").replaceChildren();
    S.chats = [];
    await loadList();
    if (seq !== routeSeq) return;  // the operator went elsewhere meanwhile
  } else renderList();
  if (chatId !== S.chatId) await openChat(chatId);
}

function markNav() {
  for (const a of $$(".nav-item")) {
    a.classList.toggle("active", S.view === "inbox" ? a.dataset.list === S.list
      : S.view === "records" ? a.dataset.records === S.recordsPage : a.dataset.admin === S.adminPage);
  }
}

// ---------------------------------------------------------------- inbox
async function loadCounts(background = false) {
  const [c, records] = await Promise.all([api("GET", "/api/counts", undefined, { background }),
    api("GET", "/api/lists/counts", undefined, { background })]);
  Object.assign(c, records);
  syncClock(c.now);
  S.counts = c;
  for (const el of $$("[data-count]")) {
    const n = c[el.dataset.count] || 0;
    el.textContent = String(n);
    el.classList.toggle("zero", n === 0);
    el.classList.toggle("hot", n > 0 && ["waiting", "unattended", "tickets_queued"].includes(el.dataset.count));
  }
  const waiting = (c.waiting || 0) + (c.unattended || 0);
  document.title = waiting ? `(${waiting}) tsunagi · console` : "tsunagi · console";
  if (S.me.role !== "manager") alertOnCounts(c);  // alerts.js: chime and desktop notification
}

async function loadList(background = false) {
  if (S.view !== "inbox") return;
  const which = S.list;
  const data = await api("GET", `/api/inbox/${which}`, undefined, { background });
  if (which !== S.list) return;
  syncClock(data.now);
  S.chats = data.chats;
  renderList();
}

function renderList() {
  const box = $("#chat-list");
  const q = S.search;
  const chats = S.chats.filter((c) => !q || [c.name, c.phone, c.username, c.wa_id].some((v) => v && String(v).toLowerCase().includes(q)));
  $("#list-sub").textContent = S.chats.length ? `${S.chats.length}` : "";
  if (!chats.length) {
    const [title, text] = q ? ["No match", "No chat in this list matches your search."] : LISTS[S.list].empty;
    box.replaceChildren(h("div", { class: "empty" }, icon("inbox"), h("b", { text: title }), h("span", { text })));
    return;
  }
  const items = [];
  if (LISTS[S.list].group) {
    // Queues are grouped by department; the header counts the chats in this list's own word.
    const groups = new Map();
    for (const c of chats) {
      const key = c.department || "No department";
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(c);
    }
    for (const [dept, group] of groups) {
      items.push(h("div", { class: "group-head" }, h("span", { class: "dept", text: dept }),
        h("span", { class: "group-count", text: `${group.length} ${LISTS[S.list].group}` })));
      items.push(...group.map(chatItem));
    }
  } else items.push(...chats.map(chatItem));
  box.replaceChildren(...items);
}

function chatItem(c) {
  const last = c.last;
  const who = last ? { user: "", bot: "Bot: ", operator: "Operator: ", system: "Desk: " }[last.sender] : "";
  const needsReply = c.state === "open" && last && last.sender === "user";
  const meta = h("div", { class: "meta" }, h("span", { class: `badge ${c.state}`, text: c.state }));
  if (c.department && !LISTS[S.list].group) meta.append(h("span", { class: "badge dept", text: c.department }));
  if ((c.state === "waiting" || c.state === "unattended") && c.handed_off_at) {
    meta.append(h("span", { class: "wait", dataset: { since: c.handed_off_at, prefix: "waiting " } }, icon("clock"), h("span", { text: "" })));
  } else if (needsReply && last.at) {
    meta.append(h("span", { class: "wait", dataset: { since: last.at, prefix: "unanswered " } }, icon("clock"), h("span", { text: "" })));
  }
  if (c.state === "closed" && c.operator) meta.append(h("span", { class: "number", text: c.operator }));
  const time = c.state === "closed" ? c.closed_at : (last ? last.at : c.last_activity_at);
  const el = h("div", {
    class: `chat-item${c.id === S.chatId ? " active" : ""}${needsReply ? " needs-reply" : ""}`,
    role: "button", tabindex: "0", dataset: { chatId: c.id },
    onclick: () => { location.hash = `#/inbox/${S.list}/${c.id}`; },
    onkeydown: (e) => { if (e.key === "Enter") location.hash = `#/inbox/${S.list}/${c.id}`; },
  },
  avatar(c.name, c.wa_id),
  h("div", {},
    h("div", { class: "row" }, h("span", { class: "name", text: displayName(c) }), h("span", { class: "time", dataset: { rel: time || "" }, text: relative(time) })),
    c.name ? h("div", { class: "number", text: handle(c) }) : null,
    h("div", { class: "preview" }, who ? h("span", { class: "from", text: who }) : null, last ? waText(last.text, "ptext") : "No messages"),
    meta));
  tickOne(el);
  return el;
}

// ---------------------------------------------------------------- conversation
const C = {};

function buildConversation() {
  C.head = h("div", { class: "conv-head" });
  C.tagbar = h("div", { class: "tagbar" });
  C.messages = h("div", { class: "messages", id: "messages", "aria-live": "polite" });
  C.notice = h("div", { class: "notice", hidden: true });
  C.text = h("textarea", { id: "reply", rows: "3", placeholder: "Write a reply…  Type / for canned responses", "aria-label": "Reply" });
  C.file = h("input", { type: "file", hidden: true, id: "attach-input" });
  C.template = h("div", { class: "template-box", id: "template-box", hidden: true });
  C.hint = h("span", { class: "window-hint" });
  C.send = h("button", { class: "btn primary", type: "button", id: "send" }, icon("send"), "Send");
  C.cannedBtn = h("button", { class: "btn ghost small", type: "button", title: "Canned responses (type /)" }, icon("zap"), "Canned");
  C.faqBtn = h("button", { class: "btn ghost small", type: "button", title: "Insert a FAQ article" }, icon("book"), "FAQ");
  C.attachBtn = h("button", { class: "btn ghost small", type: "button", title: "Attach a file" }, icon("clip"), "Attach");
  C.popup = h("div", { class: "popup", hidden: true, role: "listbox" });
  C.editor = h("div", { class: "editor" }, C.text,
    h("div", { class: "toolbar" }, C.cannedBtn, C.faqBtn, C.attachBtn, C.file, h("span", { class: "grow" }), C.hint, C.send));
  C.composer = h("div", { class: "composer" }, C.popup, C.notice, C.template, C.editor);
  $("#conv").append(C.head, C.tagbar, C.messages, C.composer);
  showNoChat();

  C.messages.addEventListener("scroll", () => {
    S.stickToEnd = C.messages.scrollHeight - C.messages.scrollTop - C.messages.clientHeight < 40;
  });
  C.send.addEventListener("click", sendReply);
  C.text.addEventListener("keydown", onReplyKey);
  C.text.addEventListener("input", () => { S.drafts.set(S.chatId, C.text.value); updateCannedPopup(); });
  // Hidden once the reply box has lost focus (unless it got it back meanwhile: typing a new "/" right away).
  C.text.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== C.text) C.popup.hidden = true; }, 150));
  C.cannedBtn.addEventListener("click", () => {
    insertAtCaret(C.text.value && !/\s$/.test(C.text.value.slice(0, C.text.selectionStart)) ? " /" : "/");
    updateCannedPopup();
  });
  C.faqBtn.addEventListener("click", openArticles);
  C.attachBtn.addEventListener("click", () => C.file.click());
  C.file.addEventListener("change", onFileChosen);
}

// No chat open (also on the first page load, before any chat was chosen): say what to do.
function showNoChat() {
  $("#conv").hidden = true;
  $("#conv-empty").hidden = false;
  $("#conv-empty").replaceChildren(icon("chat"), h("b", { text: "No chat open" }),
    h("span", { id: "conv-empty-help", text: "Pick a chat from the queue on the left to read it and answer. Waiting chats need you first: open one and press Pick. Go online to get new chats assigned to you." }));
  $("#side-pane").replaceChildren();
}

async function openChat(chatId) {
  if (S.chatId) S.drafts.set(S.chatId, C.text.value);
  S.chatId = chatId;
  S.detail = null;
  S.messages = [];
  S.msgKey = "";
  for (const el of $$(".chat-item")) el.classList.toggle("active", Number(el.dataset.chatId) === chatId);
  if (!chatId) {
    showNoChat();
    return;
  }
  $("#conv-empty").hidden = true;
  $("#conv").hidden = false;
  C.messages.replaceChildren();
  mediaEls.clear();  // another chat: its media only
  C.text.value = S.drafts.get(chatId) || "";
  await loadChat(false, true);
}

async function loadChat(background = false, scrollToEnd = false) {
  const chatId = S.chatId;
  if (!chatId) return;
  let detail, transcript;
  try {
    [detail, transcript] = await Promise.all([
      api("GET", `/api/chats/${chatId}`, undefined, { background }),
      api("GET", `/api/chats/${chatId}/messages`, undefined, { background })]);
  } catch (e) {
    if (chatId !== S.chatId) return;
    if (e.status === 404) {
      $("#conv").hidden = true;
      $("#conv-empty").hidden = false;
      $("#conv-empty").replaceChildren(icon("lock"), h("b", { text: "This chat is not available" }), h("span", { text: e.message }));
      $("#side-pane").replaceChildren();
    } else if (!background) toast(e.message, "error");
    return;
  }
  if (chatId !== S.chatId) return;
  syncClock(detail.now);
  S.detail = detail;
  renderHead(detail);
  renderTags(detail);
  renderComposer(detail);
  renderSide(detail);
  renderMessages(transcript.messages, scrollToEnd, transcript.notes || []);
}

function renderHead(d) {
  const c = d.contact;
  const subParts = [handle(c)];
  if (d.department) subParts.push(d.department.name);
  if (d.operator) subParts.push(d.operator.id === S.me.id ? "with you" : `with ${d.operator.name}`);
  if (d.number) subParts.push(`to ${d.number.display || d.number.id}`);
  const buttons = [];
  const a = d.actions;
  if (a.pick) buttons.push(h("button", { class: "btn primary", type: "button", id: "pick", onclick: pickChat }, icon("take"), "Pick"));
  if (a.take_over) buttons.push(h("button", { class: "btn primary", type: "button", id: "take-over", onclick: () => takeoverMove("take-over"),
    title: "Pause the bot and answer this chat yourself" }, icon("take"), "Take over"));
  if (a.hand_back) buttons.push(h("button", { class: "btn", type: "button", id: "hand-back", onclick: () => takeoverMove("hand-back"),
    title: "Give this chat back to the bot: the user's next message goes to the bot" }, icon("bot"), "Hand back to bot"));
  buttons.push(h("button", { class: "btn", type: "button", id: "transfer", disabled: !a.transfer, onclick: openTransfer,
    title: a.transfer ? "Transfer to another operator or department" : "Only the chat's operator or an admin can transfer it" }, icon("transfer"), "Transfer"));
  buttons.push(h("button", { class: "btn danger", type: "button", id: "close-chat", disabled: !a.close, onclick: openClose,
    title: a.close ? "Close this chat" : d.state === "closed" ? "This chat is closed" : "Only the chat's operator or an admin can close it" }, icon("x"), "Close"));
  C.head.replaceChildren(
    avatar(c.name, c.wa_id, "avatar lg"),
    h("div", { class: "title" },
      h("b", {}, h("span", { class: "nm", id: "contact-name", text: displayName(c) })),
      h("div", { class: "sub", title: subParts.join(" · ") }, h("span", { class: `badge ${d.state}`, text: d.state }), " ", subParts.join(" · "))),
    h("div", { class: "conv-actions" }, buttons));
}

function extraActions(d) {
  const lead = d.leads[0];
  return [
    h("button", { class: "btn small", type: "button", id: "push-lead", disabled: !lead, onclick: () => pushLead(lead),
      title: lead ? "Send this lead's details to the CRM" : "No lead was captured for this contact" }, icon("upload"), "Push lead to CRM"),
    h("button", { class: "btn small", type: "button", id: "create-ticket", onclick: openTicket,
      title: "Turn this chat into a helpdesk ticket" }, icon("ticket"), "Create ticket"),
    h("button", { class: "btn small", type: "button", id: "add-note", onclick: openNote,
      title: "An internal note for colleagues: never sent to the customer" }, icon("lock"), "Add note"),
  ];
}

function openNote() {
  const d = S.detail;
  const text = h("textarea", { class: "field", id: "note-text", rows: "4", maxlength: "4000", "aria-label": "Note",
    placeholder: "Only colleagues who see this chat read it. It is never sent to WhatsApp." });
  const error = h("div", { class: "form-error", hidden: true, role: "alert" });
  modal({
    title: "Internal note",
    body: [h("p", { class: "muted", text: `A note on the chat with ${displayName(d.contact)}, shown in the transcript to your colleagues only.` }), text, error],
    actions: [{ label: "Cancel" }, { label: "Add note", kind: "primary", icon: "lock", run: async () => {
      try {
        await api("POST", `/api/chats/${d.id}/notes`, { text: text.value });
        toast("Note added (not sent to the customer).", "ok");
        if (d.id === S.chatId) await loadChat(false, true);
      } catch (e) { error.textContent = e.message; error.hidden = false; return false; }
    } }],
  });
}

function renderTags(d) {
  const chips = d.tags.map((t) => h("span", { class: "tag" }, t.name,
    h("button", { type: "button", title: `Remove ${t.name}`, "aria-label": `Remove tag ${t.name}`, onclick: () => removeTag(t) }, "×")));
  const add = h("button", { class: "tag-add", type: "button", text: "+ Add tag" });
  add.addEventListener("click", () => {
    const listId = "tag-options";
    const input = h("input", { class: "tag-input", list: listId, placeholder: "Tag name, Enter", "aria-label": "Tag" });
    const options = h("datalist", { id: listId }, S.tags.filter((t) => !d.tags.some((x) => x.id === t.id)).map((t) => h("option", { value: t.name })));
    input.addEventListener("keydown", async (e) => {
      if (e.key === "Escape") renderTags(S.detail);
      if (e.key !== "Enter" || !input.value.trim()) return;
      try {
        const r = await api("POST", `/api/chats/${d.id}/tags`, { name: input.value.trim() });
        S.detail.tags = r.tags;
        if (S.me.role === "admin") S.tags = await api("GET", "/api/tags");
        renderTags(S.detail);
      } catch (err) { toast(err.message, "error"); }
    });
    input.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== input) renderTags(S.detail); }, 200));
    add.replaceWith(input, options);
    input.focus();
  });
  C.tagbar.replaceChildren(h("span", { class: "lbl" }, icon("tag")), ...chips, add, h("span", { class: "grow" }), ...extraActions(d));
}

async function removeTag(tag) {
  try {
    const r = await api("DELETE", `/api/chats/${S.detail.id}/tags/${tag.id}`);
    S.detail.tags = r.tags;
    renderTags(S.detail);
  } catch (e) { toast(e.message, "error"); }
}

function renderComposer(d) {
  const cp = d.composer;
  const enabled = cp.enabled;
  C.text.disabled = !enabled;
  C.send.disabled = !enabled;
  for (const b of [C.cannedBtn, C.faqBtn, C.attachBtn]) { b.disabled = !enabled; b.hidden = cp.kind === "window"; }
  C.editor.classList.toggle("disabled", !enabled);
  C.editor.hidden = cp.kind === "window";
  renderTemplates(d);
  C.text.placeholder = enabled ? `Reply to ${displayName(d.contact)}…  Type / for canned responses` : "";
  C.notice.dataset.kind = cp.kind;
  if (enabled) {
    C.notice.hidden = true;
  } else {
    const kind = { window: "warn", pick: "info", closed: "muted", credits: "warn" }[cp.kind] || "muted";
    C.notice.className = `notice ${kind}`;
    const extra = [];
    if (cp.kind === "pick" && d.actions.pick) extra.push(h("button", { class: "btn primary small", type: "button", onclick: pickChat }, icon("take"), "Pick chat"));
    C.notice.replaceChildren(icon(cp.kind === "window" ? "clock" : cp.kind === "closed" ? "lock" : cp.kind === "credits" ? "coins" : "info"),
      h("span", { class: "grow", id: "composer-reason", text: cp.reason }), ...extra);
    C.notice.hidden = false;
  }
  updateWindowHint();
}

// Outside the 24-hour window: approved templates instead of free text (desk.billing.templates).
function renderTemplates(d) {
  const cp = d.composer;
  const asked = S.templatesFor === d.id && cp.kind === "ok";  // "Send template" under a failed message
  if (cp.kind !== "window" && !asked) { C.template.hidden = true; C.template.replaceChildren(); C.tplKey = ""; return; }
  const key = `${d.id}:${(cp.templates || []).map((t) => t.id).join(",")}:${cp.template_reason || ""}`;
  C.template.hidden = false;
  if (key === C.tplKey) return;  // keep what the operator typed across live refreshes
  C.tplKey = key;
  const list = cp.templates || [];
  if (!list.length) {
    C.template.replaceChildren(h("div", { class: "muted", id: "template-reason", text: cp.template_reason || "No approved templates." }));
    return;
  }
  const select = h("select", { class: "field", id: "template-select", "aria-label": "Approved template" },
    list.map((t, i) => h("option", { value: String(i), text: `${t.name} (${t.language}) · ${t.category.toLowerCase()}` })));
  const params = h("div", { class: "tpl-params" });
  const preview = h("div", { class: "tpl-preview" });
  const reason = cp.template_reason ? h("div", { class: "form-error", id: "template-reason", text: cp.template_reason }) : null;
  const send = h("button", { class: "btn primary", type: "button", id: "send-template", disabled: !!cp.template_reason }, icon("send"), "Send template");
  let inputs = { header: [], body: [] };
  const fill = (text, values) => (text || "").replace(/\{\{\s*(\d+)\s*\}\}/g, (m, n) => values[Number(n) - 1] || m);
  const update = () => {
    const t = list[Number(select.value)];
    const hv = inputs.header.map((x) => x.value), bv = inputs.body.map((x) => x.value);
    preview.replaceChildren(...[t.header ? h("b", { text: fill(t.header, hv) }) : null, h("span", { text: fill(t.body, bv) }),
      t.footer ? h("small", { text: t.footer }) : null].filter(Boolean));
  };
  const choose = () => {
    const t = list[Number(select.value)];
    inputs = { header: [], body: [] };
    const fields = [];
    for (const part of ["header", "body"]) {
      for (let i = 1; i <= t.params[part]; i++) {
        const input = h("input", { class: "field", placeholder: `${part} {{${i}}}`, "aria-label": `${part} parameter ${i}`, dataset: { part, n: i } });
        input.addEventListener("input", update);
        inputs[part].push(input);
        fields.push(input);
      }
    }
    params.replaceChildren(...fields);
    update();
  };
  select.addEventListener("change", choose);
  send.addEventListener("click", async () => {
    const t = list[Number(select.value)];
    send.disabled = true;
    try {
      await api("POST", `/api/chats/${d.id}/template`, { name: t.name, language: t.language,
        header_params: inputs.header.map((x) => x.value), body_params: inputs.body.map((x) => x.value) });
      toast(`Template ${t.name} queued for sending.`, "ok");
      C.tplKey = "";
      S.templatesFor = null;
      await loadChat(false, true);
    } catch (e) { toast(e.message, "error"); } finally { send.disabled = !!cp.template_reason; }
  });
  const hide = asked ? h("button", { class: "btn ghost small", type: "button", id: "hide-templates", onclick: () => { S.templatesFor = null; renderTemplates(S.detail); } }, "Hide") : null;
  C.template.replaceChildren(h("div", { class: "tpl-head" }, h("b", { text: "Approved templates" }),
    h("span", { class: "muted", text: "WhatsApp allows only these outside the 24-hour window; a template opens a business-initiated conversation." }), hide),
  h("div", { class: "tpl-row" }, select, params), preview, ...(reason ? [reason] : []), h("div", { class: "tpl-actions" }, send));
  choose();
}

function updateWindowHint() {
  const d = S.detail;
  if (!d || !d.composer.enabled || !d.composer.window_closes_at) { C.hint.textContent = ""; return; }
  const left = parse(d.composer.window_closes_at) - now();
  C.hint.textContent = left > 0 ? `Window: ${duration(left, { seconds: false })} left` : "Window closed";
  C.hint.title = "WhatsApp's 24-hour customer-service window: free-form replies only inside it";
  C.hint.className = `window-hint${left < 3600000 ? " soon" : ""}`;
}

const TICKS = {
  queued: ["clock", "pending", "Queued"], sending: ["clock", "pending", "Sending"], accepted: ["✓", "", "Accepted by WhatsApp"],
  sent: ["✓", "", "Sent"], delivered: ["✓✓", "", "Delivered"], read: ["✓✓", "read", "Read"], failed: ["⚠", "failed", "Not delivered"],
};

function messageFoot(m) {
  const foot = h("div", { class: "foot" }, h("span", { text: clock(m.at), title: new Date(m.at).toLocaleString() }));
  if (m.direction === "out") {
    const [mark, cls, label] = TICKS[m.status] || ["", "", m.status];
    const t = h("span", { class: `ticks ${cls}`, title: label, "aria-label": label, dataset: { status: m.status } });
    if (mark === "clock") t.append(icon("clock", "icon tiny")); else t.textContent = mark;
    foot.append(t);
  }
  return foot;
}

// Media is served no-store (nothing stays in the browser after sign-out), so a redrawn
// transcript reuses the loaded elements of the open chat instead of fetching them again.
const mediaEls = new Map();
function mediaEl(url, make) {
  if (!mediaEls.has(url)) mediaEls.set(url, make());
  return mediaEls.get(url);
}

function messageEl(m, showWho) {
  if (m.type === "event") return h("div", { class: "msg-event", dataset: { id: m.id } }, h("span", { text: m.body }), h("small", { text: clock(m.at) }));
  const bubble = h("div", { class: "bubble" });
  if (m.forwarded) bubble.append(h("div", { class: "forwarded", text: "↪ Forwarded" }));
  if (m.reply_to) {  // the customer replied to a message: quote it, as WhatsApp does
    const quoted = S.byWamid && S.byWamid.get(m.reply_to);
    bubble.append(h("div", { class: "quoted", title: "In reply to", text: quoted ? (quoted.body || `[${quoted.type}]`) : "a message not in this chat" }));
  }
  const md = m.media;
  if (md) {
    if (!md.url) bubble.append(h("div", { class: "missing-media", text: `[${md.kind}${md.filename ? ": " + md.filename : ""} — not stored]` }));
    else if (md.kind === "image") bubble.append(mediaEl(md.url, () => {
      const img = h("img", { class: "media", src: md.url, alt: md.filename || "image" });
      img.addEventListener("load", () => { if (S.stickToEnd) C.messages.scrollTop = C.messages.scrollHeight; });
      img.addEventListener("click", () => window.open(md.url, "_blank", "noopener"));
      return img;
    }));
    else if (md.kind === "video") bubble.append(mediaEl(md.url, () => h("video", { class: "media", src: md.url, controls: true, preload: "metadata" })));
    else if (md.kind === "audio") bubble.append(mediaEl(md.url, () => h("audio", { class: "media", src: md.url, controls: true, preload: "metadata" })));
    else {
      bubble.append(h("a", { class: "doc", href: md.url, download: md.filename || "", rel: "noopener" }, icon("file"),
        h("span", {}, h("span", { class: "fn", text: md.filename || "document" }), h("span", { class: "sz", text: [md.mime, md.size ? human(md.size) : ""].filter(Boolean).join(" · ") }))));
    }
  }
  if (m.body) bubble.append(waText(m.body));
  else if (!md) bubble.append(h("span", { class: "text missing-media", text: `[${m.type}]` }));
  // The buttons (or list rows) the bot offered with this message, as the customer saw them.
  if (m.buttons && m.buttons.length) {
    bubble.append(h("div", { class: "offered", "aria-label": "Buttons offered" },
      m.buttons.map((t) => h("span", { class: "offer", text: t }))));
  }
  const who = { user: S.detail ? displayName(S.detail.contact) : "User", bot: "Bot", operator: "Operator", system: "Desk" }[m.sender];
  const el = h("div", { class: `msg ${m.sender}${m.status === "failed" ? " failed" : ""}`, dataset: { id: m.id } },
    showWho ? h("div", { class: "who", text: who }) : null, bubble, messageFoot(m));
  if (m.failure) el.append(failureEl(m));
  else if (m.error) el.append(h("div", { class: "err", text: m.error }));
  return el;
}

// A failed send in plain words (desk/services/send_errors.py), with its next step and button.
function failureEl(m) {
  const f = m.failure;
  const d = S.detail;
  const mayAnswer = d && d.state === "open" && (d.operator && d.operator.id === S.me.id || S.me.role === "admin");
  const buttons = [];
  if (mayAnswer && m.sender === "operator" && f.action === "retry") {
    buttons.push(h("button", { class: "btn small", type: "button", dataset: { retry: m.id }, onclick: (e) => retryMessage(m, e.currentTarget) }, "Retry"));
  }
  if (mayAnswer && f.action === "template") {
    buttons.push(h("button", { class: "btn small primary", type: "button", dataset: { useTemplate: m.id }, onclick: () => showTemplates() }, icon("send"), "Send template"));
  }
  return h("div", { class: "err failure", role: "note" },
    h("div", { class: "what", text: f.text }), h("div", { class: "next", text: f.next_step }),
    buttons.length ? h("div", { class: "failure-actions" }, ...buttons) : null,
    h("small", { class: "detail", text: `WhatsApp said: ${m.error}` }));
}

async function retryMessage(m, btn) {
  btn.disabled = true;
  try {
    await api("POST", `/api/chats/${S.chatId}/messages/${m.id}/retry`);
    toast("Queued again for WhatsApp.", "ok");
    S.msgKey = "";
    await loadChat(false, true);
  } catch (e) { toast(e.message, "error"); btn.disabled = false; }
}

function showTemplates() {
  if (!S.detail) return;
  S.templatesFor = S.detail.id;
  C.tplKey = "";
  renderTemplates(S.detail);
  C.template.scrollIntoView({ block: "nearest" });
  const select = $("#template-select");
  if (select) select.focus();
}

// An internal note: for colleagues only, never sent to WhatsApp (desk/services/notes.py).
function noteEl(n) {
  return h("div", { class: "msg-note", dataset: { noteId: n.id } },
    h("div", { class: "note-head" }, icon("lock", "icon tiny"), h("b", { text: n.author }), h("span", { text: " · internal note, not sent to the customer" }),
      h("small", { text: clock(n.at), title: new Date(n.at).toLocaleString() })),
    h("div", { class: "note-body", text: n.body }));
}

function renderMessages(list, scrollToEnd, notes = []) {
  const box = C.messages;
  S.byWamid = new Map(list.filter((m) => m.wamid).map((m) => [m.wamid, m]));  // replies quote what they answer
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  const key = list.map((m) => m.id).join(",") + "|" + notes.map((n) => n.id).join(",");
  if (key !== S.msgKey) {
    const mineAdded = list.length > S.messages.length && list.slice(S.messages.length).some((m) => m.direction === "out");
    const nodes = [];
    let day = "", prev = null;
    // Reactions are shown on the message they react to (the latest one; an empty emoji takes it back).
    const reactions = new Map();
    for (const m of list) if (m.type === "reaction" && m.wamid_reacted) reactions.set(m.wamid_reacted, m.body || "");
    // Messages (in WhatsApp-timestamp order) and notes (by when they were written), merged by time.
    const items = list.filter((m) => m.type !== "reaction").map((m) => ({ at: parse(m.at), m }));
    for (const n of notes) {
      const t = parse(n.at);
      let i = items.length;
      while (i > 0 && items[i - 1].at > t) i--;
      items.splice(i, 0, { at: t, n });
    }
    for (const { m, n } of items) {
      const label = dayLabel(m ? m.at : n.at);
      if (label !== day) { nodes.push(h("div", { class: "day", text: label })); day = label; prev = null; }
      if (n) { nodes.push(noteEl(n)); prev = null; continue; }
      const el = messageEl(m, !prev || prev.sender !== m.sender);
      const emoji = m.wamid && reactions.get(m.wamid);
      if (emoji) (el.querySelector(".bubble") || el).append(h("span", { class: "reaction", title: "The customer reacted", text: emoji }));
      nodes.push(el);
      prev = m;
    }
    if (!list.length) nodes.push(h("div", { class: "empty" }, h("span", { text: "No messages yet." })));
    box.replaceChildren(...nodes);
    S.msgKey = key;
    if (scrollToEnd || nearBottom || mineAdded) { box.scrollTop = box.scrollHeight; S.stickToEnd = true; }
  } else {
    const old = new Map(S.messages.map((m) => [m.id, m]));
    for (const m of list) {
      const before = old.get(m.id);
      if (before && (before.status !== m.status || before.error !== m.error)) {
        const el = box.querySelector(`.msg[data-id="${m.id}"]`);
        if (el) el.replaceWith(messageEl(m, !!el.querySelector(".who")));
      }
    }
  }
  S.messages = list;
}

function renderSide(d) {
  const c = d.contact;
  const side = [];
  side.push(h("section", {}, h("div", { class: "contact-card" }, avatar(c.name, c.wa_id, "avatar lg"),
    h("b", { text: c.name || "Unknown name" }), h("span", { class: "sub", text: handle(c) }),
    h("span", { class: "sub", text: "WhatsApp" + (d.number ? ` · to ${d.number.display || d.number.id}` : "") }))));
  const windowText = d.composer.window_closes_at
    ? (parse(d.composer.window_closes_at) > now() ? `open, ${duration(parse(d.composer.window_closes_at) - now(), { seconds: false })} left` : "closed")
    : "not opened by the user";
  const kv = [["State", d.state], ["Department", d.department ? d.department.name : "—"], ["Operator", d.operator ? d.operator.name : "—"],
    ["Started", stamp(d.opened_at)], ["Handed over", stamp(d.handed_off_at)], ["Joined", stamp(d.assigned_at)],
    ["24h window", windowText]];
  if (d.state === "closed") kv.push(["Closed", stamp(d.closed_at)], ["Closed by", d.closed_by || "—"], ["Reason", d.close_reason || "—"]);
  if (d.source) kv.push(["Came from", `${d.source.type === "ad" ? "an ad" : d.source.type || "a link"}${d.source.headline ? ` “${d.source.headline}”` : ""}${d.source.url ? ` · ${d.source.url}` : ""}`]);
  if (d.csat) kv.push(["Rating", d.csat.label ? d.csat.label + (d.csat.comment ? ` · “${d.csat.comment}”` : "")
    : d.csat.state === "skipped" ? `no survey: ${d.csat.skip_reason || "skipped"}` : "survey sent, no answer yet"]);
  side.push(h("section", {}, h("h3", { text: "Conversation" }), dl(kv)));
  const lead = d.leads[0];
  const leadSec = h("section", { id: "lead-panel" }, h("h3", {}, h("span", { text: "Lead" }),
    lead ? h("span", { class: "crm" }, h("span", { class: `dot ${lead.crm_state === "pushed" ? "online" : lead.crm_state === "failed" ? "" : "away"}` }), `CRM: ${lead.crm_state}`) : null));
  if (lead) {
    leadSec.append(dl([["Name", lead.name || "—"], ["Email", lead.email || "—"], ["Company", lead.company || "—"], ["Interest", lead.interest || "—"],
      ["Phone", lead.phone || "—"], ["Consent", lead.consent ? "yes" : "no"], ["Captured", stamp(lead.created_at)]]
      .concat(lead.crm_id ? [["CRM id", lead.crm_id]] : [])
      .concat(followUpText(lead.follow_up) ? [["Follow-up", followUpText(lead.follow_up)]] : [])));
    leadSec.append(h("button", { class: "btn", type: "button", onclick: () => pushLead(lead) }, icon("upload"),
      lead.crm_state === "pushed" ? "Push again" : "Push lead to CRM"));
    if (d.leads.length > 1) leadSec.append(h("div", { class: "muted", text: `${d.leads.length - 1} earlier ${d.leads.length === 2 ? "lead" : "leads"} for this contact.` }));
  } else leadSec.append(h("div", { class: "muted", text: "No lead captured for this contact yet." }));
  side.push(leadSec);
  if (d.previous.length) {
    side.push(h("section", {}, h("h3", { text: "Previous chats" }), d.previous.map((p) => h("div", { class: "prev" },
      h("a", { href: `#/inbox/${S.list}/${p.id}`, text: `#${p.id} · ${stamp(p.opened_at)}` }), h("span", { class: `badge ${p.state}`, text: p.state })))));
  }
  $("#side-pane").replaceChildren(...side);
}

// The lead's next-day follow-up (see lead_json in desk/web/api.py); null: nothing to show.
function followUpText(f) {
  if (!f) return null;
  const when = (iso) => stamp(iso).replace(/^(Today|Tomorrow) /, (m) => m.toLowerCase());
  if (f.state === "sent") return `sent ${when(f.at)}`;
  if (f.state === "sending") return "being sent";
  if (f.state === "refused") return `not sent: ${f.reason || "refused"}`;
  if (f.state === "due") return parse(f.at) > now() ? `due ${when(f.at)}` : "due now";
  return null;
}

function dl(pairs) {
  return h("dl", { class: "kv" }, pairs.map(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })]));
}

// ---- actions
async function pickChat() {
  try {
    await api("POST", `/api/chats/${S.chatId}/pick`);
    toast("The chat is yours: answer away.", "ok");
    location.hash = `#/inbox/mine/${S.chatId}`;
    scheduleRefresh();
  } catch (e) { toast(e.message, "error"); scheduleRefresh(); }
}

// A canned-response trigger with nothing chosen ("/", "/cou"): never sent to the customer.
const LONE_SLASH = /^\/[\w-]*$/;

async function sendReply() {
  const text = C.text.value.trim();
  if (!text || C.send.disabled) return;
  if (LONE_SLASH.test(text)) {
    toast(S.canned.length ? "Choose a canned response from the list (or type your reply): a lone shortcut is not sent."
      : "There are no canned responses yet: type your reply instead.", "error");
    updateCannedPopup();
    return;
  }
  C.send.disabled = true;
  try {
    await api("POST", `/api/chats/${S.chatId}/reply`, { text });
    C.text.value = "";
    S.drafts.delete(S.chatId);
    C.popup.hidden = true;
    await loadChat(false, true);
  } catch (e) {
    toast(e.message, "error");
  } finally {
    C.send.disabled = !(S.detail && S.detail.composer.enabled);
    C.text.focus();
  }
}

function onReplyKey(e) {
  if (!C.popup.hidden) {
    const opts = $$(".opt", C.popup);
    let i = opts.findIndex((o) => o.classList.contains("sel"));
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      i = (i + (e.key === "ArrowDown" ? 1 : -1) + opts.length) % opts.length;
      opts.forEach((o, j) => o.classList.toggle("sel", j === i));
      opts[i].scrollIntoView({ block: "nearest" });
      return;
    }
    if ((e.key === "Enter" || e.key === "Tab") && opts[i]) { e.preventDefault(); opts[i].click(); return; }
    if (e.key === "Escape") { C.popup.hidden = true; return; }
  }
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendReply(); }
}

function insertAtCaret(text) {
  const ta = C.text;
  const start = ta.selectionStart, end = ta.selectionEnd;
  ta.value = ta.value.slice(0, start) + text + ta.value.slice(end);
  ta.selectionStart = ta.selectionEnd = start + text.length;
  ta.focus();
  S.drafts.set(S.chatId, ta.value);
}

function slashQuery() {
  const before = C.text.value.slice(0, C.text.selectionStart);
  const m = before.match(/(^|\s)\/([\w-]*)$/);
  return m ? { query: m[2].toLowerCase(), start: before.length - m[2].length - 1 } : null;
}

function updateCannedPopup() {
  const q = slashQuery();
  if (!q) { C.popup.hidden = true; return; }
  const hits = S.canned.filter((c) => c.shortcut.startsWith(q.query) || c.title.toLowerCase().includes(q.query)).slice(0, 8);
  const rows = hits.map((c, i) => h("div", { class: `opt${i === 0 ? " sel" : ""}`, role: "option",
    onmousedown: (e) => e.preventDefault(),
    onclick: () => {
      const ta = C.text, cur = slashQuery();
      if (!cur) return;
      const text = fillCanned(c.text);
      ta.value = ta.value.slice(0, cur.start) + text + ta.value.slice(ta.selectionStart);
      ta.selectionStart = ta.selectionEnd = cur.start + text.length;
      S.drafts.set(S.chatId, ta.value);
      C.popup.hidden = true;
      ta.focus();
    } }, h("code", { text: "/" + c.shortcut }), h("span", { class: "t", text: c.title }), h("span", { class: "x", text: fillCanned(c.text) })));
  C.popup.replaceChildren(h("div", { class: "head", text: S.canned.length ? "Canned responses" : "No canned responses yet (admins add them)" }),
    ...(rows.length ? rows : S.canned.length ? [h("div", { class: "opt" }, h("span", { class: "x", text: `Nothing matches /${q.query}` }))] : []));
  C.popup.hidden = false;
}

// {name}, {operator}, {brand} of a canned response, with this chat's values (desk.services.canned.fill).
function fillCanned(text) {
  const values = (S.detail && S.detail.canned_values) || {};
  return String(text).replace(/\{([^{}\s]*)\}/g, (m, key) => (Object.prototype.hasOwnProperty.call(values, key) ? values[key] : m));
}

function openArticles() {
  const search = h("input", { class: "field", type: "search", placeholder: "Search articles", "aria-label": "Search articles" });
  const list = h("div", { class: "pick-list" });
  const render = () => {
    const q = search.value.trim().toLowerCase();
    const hits = S.articles.filter((a) => !q || (a.title + " " + a.area + " " + a.answer).toLowerCase().includes(q));
    list.replaceChildren(...(hits.length ? hits.map((a) => h("div", { class: "article", onclick: () => { insertAtCaret(a.answer); dlg.close(); } },
      h("b", { text: a.title }), h("small", { text: a.area }), h("p", { text: a.answer })))
      : [h("div", { class: "empty", text: S.articles.length ? "No article matches." : "No FAQ articles available." })]));
  };
  search.addEventListener("input", render);
  render();
  const dlg = modal({ title: "Insert a FAQ article", body: [search, list], actions: [{ label: "Cancel" }] });
}

function checkOutbound(name, size, mime) {
  // The same rules and words as desk.attachments.check_outbound (rules come from the server).
  const dot = name.lastIndexOf(".");
  const ext = dot >= 0 ? name.slice(dot + 1).toLowerCase() : "";
  const rule = S.rules.find((r) => r.extensions.includes(ext));
  if (!rule) {
    const allowed = S.rules.map((r) => `${r.kind}: ${r.extensions.join("/")}`).join(", ");
    throw new Error(`'.${ext || "?"}' files cannot be sent on WhatsApp here (${allowed})`);
  }
  const type = (mime || "").split(";")[0].trim().toLowerCase();
  if (type && type !== "application/octet-stream" && !rule.mime_types.includes(type)) {
    throw new Error(`${name} says it is ${mime}, which is not an allowed ${rule.kind} type`);
  }
  if (size <= 0) throw new Error(`${name} is empty`);
  if (size > rule.max_bytes) throw new Error(`${name} is ${(size / MB).toFixed(1)} MB; a ${rule.kind} may be at most ${Math.floor(rule.max_bytes / MB)} MB`);
  return rule;
}

async function onFileChosen() {
  const file = C.file.files[0];
  C.file.value = "";
  if (!file) return;
  let rule;
  try {
    rule = checkOutbound(file.name, file.size, file.type);
  } catch (e) {
    toast(`Not sent: ${e.message}`, "error");
    return;
  }
  const chatId = S.chatId;
  const captioned = ["image", "document", "video"].includes(rule.kind);
  const caption = h("input", { class: "field", id: "attach-caption", maxlength: "1024", placeholder: "Caption (optional)", "aria-label": "Caption" });
  const preview = h("div", { class: "attach-preview" });
  if (rule.kind === "image") {
    const url = URL.createObjectURL(file);
    const img = h("img", { src: url, alt: file.name });
    img.addEventListener("load", () => URL.revokeObjectURL(url));
    preview.append(img);
  } else preview.append(icon("file"));
  preview.append(h("div", {}, h("b", { text: file.name }), h("small", { text: `${rule.kind} · ${human(file.size)} (at most ${Math.floor(rule.max_bytes / MB)} MB)` })));
  modal({
    title: `Send to ${S.detail ? displayName(S.detail.contact) : "the user"}`,
    body: [preview, captioned ? caption : h("p", { class: "muted", text: "WhatsApp shows no caption on audio messages." })],
    actions: [{ label: "Cancel" }, { label: "Send", kind: "primary", icon: "send", run: async () => {
      const form = new FormData();
      if (captioned && caption.value.trim()) form.append("caption", caption.value.trim());
      form.append("file", file, file.name);
      try {
        await api("POST", `/api/chats/${chatId}/attachments`, form, { headers: { "X-File-Size": String(file.size) } });
        toast(`${file.name} queued for sending.`, "ok");
        if (chatId === S.chatId) await loadChat(false, true);
      } catch (e) { toast(`Not sent: ${e.message}`, "error"); return false; }
    } }],
  });
}

async function openTransfer() {
  let dir;
  try { dir = await api("GET", "/api/directory"); } catch (e) { toast(e.message, "error"); return; }
  const d = S.detail;
  let mode = "operator", chosen = null;
  const list = h("div", { class: "pick-list" });
  const seg = h("div", { class: "seg" });
  const render = () => {
    seg.replaceChildren(...["operator", "department"].map((m) => h("button", { type: "button", class: mode === m ? "on" : "",
      onclick: () => { mode = m; chosen = null; render(); } }, m === "operator" ? "Operator" : "Department")));
    const opts = mode === "operator"
      ? dir.operators.filter((o) => !(d.operator && o.id === d.operator.id)).map((o) => h("div", {
        class: `opt${chosen === o.id ? " sel" : ""}${o.status === "offline" ? " offline" : ""}`, onclick: () => { chosen = o.id; render(); } },
        avatar(o.name, o.email), h("div", { class: "grow" }, h("b", { text: o.name + (o.id === S.me.id ? " (you)" : "") }),
          h("small", { text: `${o.departments.map((x) => x.name).join(", ") || "no department"} · ${o.load}/${o.max_chats} chats` })),
        h("span", { class: "dot " + o.status, title: o.status }), h("small", { text: o.status })))
      : dir.departments.map((x) => h("div", { class: `opt${chosen === x.id ? " sel" : ""}`, onclick: () => { chosen = x.id; render(); } },
        icon("users"), h("div", { class: "grow" }, h("b", { text: x.name }),
          h("small", { text: d.department && d.department.id === x.id ? "current department: back to its queue" : "joins this department's queue" }))));
    list.replaceChildren(...(opts.length ? opts : [h("div", { class: "empty", text: "Nobody to transfer to." })]));
  };
  render();
  modal({
    title: "Transfer chat", body: [h("p", { text: `Hand ${displayName(d.contact)} to a colleague or another department.` }), seg, list],
    actions: [{ label: "Cancel" }, { label: "Transfer", kind: "primary", icon: "transfer", run: async () => {
      if (!chosen) { toast("Choose who gets the chat.", "error"); return false; }
      try {
        const r = await api("POST", `/api/chats/${d.id}/transfer`, mode === "operator" ? { operator_id: chosen } : { department_id: chosen });
        toast(r.operator ? `Transferred to ${r.operator}.` : r.state === "waiting" ? `Back in the queue (position ${r.position}).` : `Chat is now ${r.state}.`, "ok");
        if (!r.visible) location.hash = `#/inbox/${S.list}`;
        scheduleRefresh();
      } catch (e) { toast(e.message, "error"); return false; }
    } }],
  });
}

function openClose() {
  const reason = h("input", { class: "field", placeholder: "Reason (optional), e.g. resolved", maxlength: "500", "aria-label": "Reason" });
  modal({
    title: "Close this chat?",
    body: [h("p", { text: "A closed chat cannot be answered. If the user writes again, a new chat starts with the bot." }), reason],
    actions: [{ label: "Cancel" }, { label: "Close chat", kind: "danger solid", icon: "x", run: async () => {
      try {
        await api("POST", `/api/chats/${S.chatId}/close`, { reason: reason.value.trim() || undefined });
        toast("Chat closed.", "ok");
        scheduleRefresh();
      } catch (e) { toast(e.message, "error"); return false; }
    } }],
  });
}

function openTicket() {
  const d = S.detail;
  const subject = h("input", { class: "field", maxlength: "255", "aria-label": "Subject" });
  subject.value = `WhatsApp chat with ${displayName(d.contact)} (${handle(d.contact)})`;
  modal({
    title: "Create a helpdesk ticket",
    body: [h("p", { text: "The ticket gets the whole transcript, in WhatsApp-timestamp order." }), subject],
    actions: [{ label: "Cancel" }, { label: "Create ticket", kind: "primary", icon: "ticket", run: async () => {
      try {
        const t = await api("POST", `/api/chats/${d.id}/ticket`, { subject: subject.value.trim() || undefined });
        toast(`Ticket #${t.id} created.`, "ok");
      } catch (e) { toast(e.message, "error"); return false; }
    } }],
  });
}

async function pushLead(lead) {
  if (!lead) return;
  try {
    const r = await api("POST", `/api/chats/${S.chatId}/leads/${lead.id}/push`);
    toast(r.job.state === "sent" ? `Already in the CRM (${r.job.adapter}).` : `Lead queued for the CRM (${r.job.adapter}).`, "ok");
    scheduleRefresh();
  } catch (e) { toast(e.message, "error"); }
}

// ---------------------------------------------------------------- admin
async function renderAdmin(page) {
  const pane = $("#admin-pane");
  const pages = { numbers: adminNumbers, team: adminTeam, timeouts: adminTimeouts, templates: adminTemplates, credits: adminCredits,
    canned: adminCanned, tags: adminTags, reports: adminReports, surveys: adminSurveys /* reports.js */, trainer: adminTrainer /* trainer.js */ };
  try {
    // A page may leave out a part (`cond ? el : null`): replaceChildren would show a null as the text "null".
    pane.replaceChildren(...(await (pages[page] || adminNumbers)()).filter((x) => x != null && x !== false));
  } catch (e) {
    pane.replaceChildren(h("div", { class: "form-error", text: e.message }));
  }
}

const th = (...names) => h("thead", {}, h("tr", {}, names.map((n) => h("th", { text: n }))));

// A form in a modal: fields [{ name, label, type, value, options, help, placeholder }]; `submit(values)`
// returns false (or throws) to keep it open. Errors show inside the form.
function formModal({ title, intro, fields, submitLabel, submit }) {
  const controls = {};
  const error = h("div", { class: "form-error", hidden: true, role: "alert" });
  const rows = fields.map((f) => {
    let control;
    if (f.type === "select") {
      control = h("select", { class: "field", id: `f-${f.name}` }, f.options.map((o) => h("option", { value: o.value, text: o.label })));
      if (f.value != null) control.value = String(f.value);
    } else if (f.type === "checks") {
      control = h("div", { class: "checks", id: `f-${f.name}` }, f.options.length ? f.options.map((o) => h("label", {},
        h("input", { type: "checkbox", value: o.value, checked: (f.value || []).includes(o.value) }), " ", o.label))
        : h("span", { class: "muted", text: "None yet." }));
    } else if (f.type === "textarea") {
      control = h("textarea", { class: "field", id: `f-${f.name}`, rows: "4", maxlength: f.maxlength || null });
      control.value = f.value || "";
    } else {
      control = h("input", { class: "field", id: `f-${f.name}`, type: f.type || "text", placeholder: f.placeholder || "",
        autocomplete: f.type === "password" ? "new-password" : "off", min: f.min, max: f.max, maxlength: f.maxlength || null });
      if (f.value != null) control.value = String(f.value);
    }
    controls[f.name] = { f, control };
    return h("div", { class: "mfield" }, h("label", { for: `f-${f.name}`, text: f.label }), control,
      f.help ? h("small", { class: "muted", text: f.help }) : null);
  });
  const values = () => Object.fromEntries(Object.entries(controls).map(([name, { f, control }]) => [name,
    f.type === "checks" ? $$("input:checked", control).map((x) => Number(x.value))
      : f.type === "number" ? (control.value === "" ? null : Number(control.value)) : control.value]));
  return modal({
    title, body: [intro ? h("p", { text: intro }) : null, ...rows, error],
    actions: [{ label: "Cancel" }, { label: submitLabel || "Save", kind: "primary", icon: "check", run: async () => {
      error.hidden = true;
      try {
        if ((await submit(values())) === false) return false;
      } catch (e) { error.textContent = e.message; error.hidden = false; return false; }
    } }],
  });
}

const deptOptions = (depts) => depts.map((d) => ({ value: d.id, label: d.name }));

async function adminNumbers() {
  const [rows, wabas, team] = await Promise.all([api("GET", "/api/admin/numbers"), api("GET", "/api/admin/wabas"), api("GET", "/api/admin/team")]);
  const depts = team.departments;
  const reload = () => renderAdmin("numbers");
  const addWaba = () => formModal({
    title: "Add a WhatsApp Business Account", intro: "The WABA's id and name as Meta's Business Manager shows them.",
    fields: [{ name: "id", label: "WABA id", placeholder: "e.g. 200000000000002" }, { name: "name", label: "Name", maxlength: 200 }],
    submitLabel: "Add WABA",
    submit: async (v) => { await api("POST", "/api/admin/wabas", v); toast(`WABA ${v.name} added.`, "ok"); reload(); },
  });
  const addNumber = () => formModal({
    title: "Add a number", intro: "Templates and media do not move with a number from another provider: register the templates again for this WABA.",
    fields: [
      { name: "waba_id", label: "Business account", type: "select", options: wabas.map((w) => ({ value: w.id, label: `${w.name} (${w.id})` })) },
      { name: "id", label: "Phone number id", placeholder: "Meta's id, e.g. 100000000000003" },
      { name: "display", label: "Number", placeholder: "+15550001234", help: "In international form, with the country code." },
      { name: "department_id", label: "Department", type: "select", options: deptOptions(depts), help: "Handed-over chats of this number queue here." },
      { name: "access_token", label: "Access token (optional)", type: "password", help: "Leave empty to use the default token (WHATSAPP_ACCESS_TOKEN). Never shown again." }],
    submitLabel: "Add number",
    submit: async (v) => { const n = await api("POST", "/api/admin/numbers", { ...v, department_id: Number(v.department_id) }); toast(`${n.display} added.`, "ok"); reload(); },
  });
  const reconnect = (n) => formModal({
    title: `Reconnect ${n.display || n.id}`,
    intro: "Once the partner access is granted again on Meta's side, mark the number connected. Give a new token if Meta issued one.",
    fields: [{ name: "access_token", label: "New access token (optional)", type: "password", help: "Empty: keep the current token." }],
    submitLabel: "Reconnect",
    submit: async (v) => { await api("POST", `/api/admin/numbers/${n.id}/reconnect`, v); toast(`${n.display || n.id} is connected.`, "ok"); reload(); },
  });
  const moveNumber = async (n, select) => {
    try {
      await api("PUT", `/api/admin/numbers/${n.id}`, { department_id: Number(select.value) });
      toast(`${n.display || n.id} now routes to ${select.selectedOptions[0].textContent}.`, "ok");
    } catch (e) { toast(e.message, "error"); select.value = String(n.department_id); }
  };
  const deptSelect = (n) => {
    const sel = h("select", { class: "field small", "aria-label": `Department of ${n.display || n.id}` },
      deptOptions(depts).map((o) => h("option", { value: o.value, text: o.label })));
    sel.value = String(n.department_id);
    sel.addEventListener("change", () => moveNumber(n, sel));
    return sel;
  };
  return [h("div", { class: "page-head" }, h("div", {}, h("h1", { text: "WhatsApp numbers" }),
      h("p", { class: "lead-in", text: "Each number belongs to a WhatsApp Business Account and routes its chats to one department. A number whose token Meta refuses (partner access removed) stops working until it is reconnected." })),
    h("div", { class: "head-actions" }, h("button", { class: "btn", type: "button", id: "add-waba", onclick: addWaba }, "Add WABA"),
      h("button", { class: "btn primary", type: "button", id: "add-number", onclick: addNumber, disabled: !wabas.length || !depts.length }, "Add number"))),
    h("div", { class: "card" }, h("table", { class: "grid" }, th("Number", "Business account", "Department", "State", "Token", ""),
      h("tbody", {}, rows.length ? rows.map((n) => h("tr", { dataset: { number: n.id } },
        h("td", { class: "nowrap" }, h("b", { text: n.display || n.id }), h("div", { class: "muted small", text: `id ${n.id}` })),
        h("td", { class: "nowrap" }, h("div", { text: n.waba.name }), h("div", { class: "muted small", text: `WABA ${n.waba.id}` })),
        h("td", {}, deptSelect(n)),
        h("td", {}, h("span", { class: `state-pill ${n.state}` }, h("span", { class: `dot ${n.state}` }), n.state),
          n.reason ? h("div", { class: "reason", text: n.reason }) : null,
          n.state_changed_at ? h("div", { class: "muted", text: `since ${stamp(n.state_changed_at)}` }) : null,
          n.quality || n.messaging_limit ? h("div", { class: "muted small quality", text: `Meta: ${n.quality ? n.quality.toLowerCase() : "quality not reported"}${n.messaging_limit ? ` · limit ${n.messaging_limit}` : ""}` }) : null,
          n.warning ? h("div", { class: "notice warn number-warning" }, icon("alert"), h("span", { text: n.warning })) : null),
        h("td", { class: "nowrap", text: n.own_token ? "own token" : "default token" }),
        h("td", { class: "nowrap" }, h("button", { class: `btn small${n.state === "disconnected" ? " primary" : ""}`, type: "button",
          onclick: () => reconnect(n) }, n.state === "disconnected" ? "Reconnect" : "Replace token"))))
        : h("tr", {}, h("td", { colspan: "6", class: "muted", text: "No numbers yet." }))))),
    h("div", { class: "card" }, h("h2", { text: "Business accounts" }), h("table", { class: "grid" }, th("WABA", "Id", "Numbers"),
      h("tbody", {}, wabas.length ? wabas.map((w) => h("tr", {}, h("td", {}, h("b", { text: w.name })), h("td", { class: "muted", text: w.id }),
        h("td", { class: "num", text: String(w.numbers) })))
        : h("tr", {}, h("td", { colspan: "3", class: "muted", text: "No business accounts yet: add one first." })))))];
}

async function adminTeam() {
  const t = await api("GET", "/api/admin/team");
  const reload = () => renderAdmin("team");
  const addDept = () => formModal({
    title: "New department", fields: [{ name: "name", label: "Name", maxlength: 200 }], submitLabel: "Add department",
    submit: async (v) => { await api("POST", "/api/admin/departments", v); toast(`Department ${v.name.trim()} added.`, "ok"); reload(); },
  });
  const renameDept = (d) => formModal({
    title: `Rename ${d.name}`, fields: [{ name: "name", label: "Name", value: d.name, maxlength: 200 }],
    submit: async (v) => { await api("PUT", `/api/admin/departments/${d.id}`, v); reload(); },
  });
  const common = (o = {}) => [
    { name: "name", label: "Name", value: o.name, maxlength: 200 },
    { name: "role", label: "Role", type: "select", value: o.role || "operator", options: [{ value: "operator", label: "Operator: answers chats of their departments" }, { value: "admin", label: "Admin: sees all chats and these pages" }, { value: "manager", label: "Manager: reads the reports only (no departments)" }, { value: "trainer", label: "Trainer: improves the bot from its inbox (no departments)" }] },
    { name: "department_ids", label: "Departments", type: "checks", value: (o.departments || []).map((d) => d.id), options: deptOptions(t.departments) },
    { name: "max_chats", label: "Concurrent chats", type: "number", value: o.max_chats || 5, min: 1, max: 100 },
  ];
  const addOperator = () => formModal({
    title: "New operator",
    fields: [{ name: "email", label: "Email", type: "email", maxlength: 320 }, ...common(),
      { name: "password", label: "Password", type: "password", help: "At least 10 characters. Give it to the person over a safe channel; they sign in with their email." }],
    submitLabel: "Create operator",
    submit: async (v) => { const o = await api("POST", "/api/admin/operators", v); toast(`${o.name} can now sign in.`, "ok"); reload(); },
  });
  const editOperator = (o) => formModal({
    title: `Edit ${o.name}`, intro: o.email, fields: common(o),
    submit: async (v) => { await api("PUT", `/api/admin/operators/${o.id}`, v); toast(`${v.name} saved.`, "ok"); reload(); },
  });
  const setPassword = (o) => formModal({
    title: `New password for ${o.name}`, fields: [{ name: "password", label: "Password", type: "password", help: "At least 10 characters." }],
    submitLabel: "Set password",
    submit: async (v) => { await api("PUT", `/api/admin/operators/${o.id}/password`, v); toast("Password changed.", "ok"); },
  });
  const setActive = (o, active) => modal({
    title: active ? `Reactivate ${o.name}?` : `Deactivate ${o.name}?`,
    body: h("p", { text: active ? "They can sign in again; chats are routed to them once they go online."
      : "They are signed out at once, cannot sign in and get no more chats. Their past chats keep their name." }),
    actions: [{ label: "Cancel" }, { label: active ? "Reactivate" : "Deactivate", kind: active ? "primary" : "danger solid", run: async () => {
      try { await api("PUT", `/api/admin/operators/${o.id}`, { active }); toast(`${o.name} ${active ? "reactivated" : "deactivated"}.`, "ok"); reload(); } catch (e) { toast(e.message, "error"); return false; }
    } }],
  });
  return [h("div", { class: "page-head" }, h("div", {}, h("h1", { text: "Departments & team" }),
      h("p", { class: "lead-in", text: "Handed-over chats queue in their number's department; the online member with the fewest open chats gets the next one. Operators see only the chats of their departments." })),
    h("div", { class: "head-actions" }, h("button", { class: "btn", type: "button", id: "add-department", onclick: addDept }, "Add department"),
      h("button", { class: "btn primary", type: "button", id: "add-operator", onclick: addOperator }, "Add operator"))),
    h("div", { class: "card" }, h("h2", { text: "Departments" }), h("table", { class: "grid" }, th("Department", "Members", ""),
      h("tbody", {}, t.departments.length ? t.departments.map((d) => h("tr", {}, h("td", {}, h("b", { text: d.name })),
        h("td", { class: "members", text: d.members.join(", ") || "nobody yet" }),
        h("td", { class: "nowrap right" }, h("button", { class: "btn small ghost", type: "button", onclick: () => renameDept(d) }, "Rename"))))
        : h("tr", {}, h("td", { colspan: "3", class: "muted", text: "No departments yet." }))))),
    h("div", { class: "card" }, h("h2", { text: "Operators" }), h("table", { class: "grid" }, th("Name", "Role", "Departments", "Status", "Open chats", "Account", ""),
      h("tbody", {}, t.operators.map((o) => h("tr", { class: o.active ? "" : "inactive", dataset: { operator: o.email } },
        h("td", {}, h("b", { text: o.name + (o.id === S.me.id ? " (you)" : "") }), h("div", { class: "muted", text: o.email })),
        h("td", { text: o.role }), h("td", { text: o.departments.map((d) => d.name).join(", ") || "—" }),
        h("td", {}, h("span", { class: "state-pill" }, h("span", { class: `dot ${o.status}` }), o.status)),
        h("td", { class: "num", text: `${o.load} / ${o.max_chats}` }),
        h("td", { text: o.active ? "active" : "deactivated" }),
        h("td", { class: "nowrap right" },
          h("button", { class: "btn small ghost", type: "button", onclick: () => editOperator(o) }, "Edit"),
          h("button", { class: "btn small ghost", type: "button", onclick: () => setPassword(o) }, "Password"),
          o.id === S.me.id ? null : h("button", { class: `btn small ${o.active ? "danger" : ""}`, type: "button", onclick: () => setActive(o, !o.active) },
            o.active ? "Deactivate" : "Reactivate"))))))),
  ];
}

// A duration typed in minutes, hours or days; the desk stores minutes (desk.services.settings).
const UNITS = [["minutes", 1], ["hours", 60], ["days", 1440]];
function durationField(id, minutes, label) {
  const input = h("input", { class: "field num", type: "number", id, min: "1", step: "1", "aria-label": label });
  const unit = h("select", { class: "field unit-select", id: `${id}-unit`, "aria-label": `${label}: unit` },
    UNITS.map(([name]) => h("option", { value: name, text: name })));
  // Shown in the largest unit that holds the value exactly (1440 minutes: 1 day).
  const [name, factor] = [...UNITS].reverse().find(([, f]) => minutes % f === 0) || UNITS[0];
  input.value = String(minutes / factor);
  unit.value = name;
  const value = () => {
    const n = Number(input.value);
    if (input.value.trim() === "" || !Number.isInteger(n)) return NaN;
    return n * UNITS.find(([u]) => u === unit.value)[1];
  };
  return { el: h("div", { class: "duration" }, input, unit), value };
}

async function adminTimeouts() {
  const s = await api("GET", "/api/admin/settings");
  const unattended = durationField("unattended", s.unattended_close_minutes, "Close unattended chats after");
  const idle = durationField("idle", s.idle_close_minutes, "Close idle chats after");
  const bot = h("input", { type: "checkbox", id: "bot-enabled" });
  bot.checked = s.bot_enabled;
  const result = h("div", { hidden: true });
  const save = h("button", { class: "btn primary", type: "button", id: "save-timeouts" }, icon("check"), "Save");
  save.addEventListener("click", async () => {
    result.hidden = true;
    try {
      if (Number.isNaN(unattended.value()) || Number.isNaN(idle.value())) throw new Error("Enter whole numbers of minutes, hours or days.");
      await api("PUT", "/api/admin/settings", { unattended_close_minutes: unattended.value(), idle_close_minutes: idle.value(), bot_enabled: bot.checked });
      result.className = "form-ok"; result.textContent = "Saved.";
    } catch (e) { result.className = "form-error"; result.textContent = e.message; }
    result.hidden = false;
  });
  const row = (label, help, control) => h("div", { class: "form-row" }, h("label", {}, h("b", { text: label }), h("span", { text: help })), control);
  return [h("h1", { text: "Timeouts" }),
    h("p", { class: "lead-in", text: "When the desk closes chats by itself. Any message from either side resets the idle timer." }),
    h("div", { class: "card" }, h("div", { class: "body" },
      row("Close unattended chats after", "Handed over but nobody joined: 15 minutes to 1 month (31 days).", unattended.el),
      row("Close idle chats after", "An operator has the chat and nobody writes: at most 24 hours (1 day).", idle.el),
      row("Bot answers first", "Where the bot has the chat, its own idle rules apply instead.", h("label", {}, bot, " enabled")),
      h("div", {}, save), result)),
    botRulesCard(s.bot_idle_rules),
    noticesCard(s),
  ];
}

// What the customer is told when an operator joins, the chat is transferred, or an operator
// closes it (desk.services.customer_notices); an empty text sends nothing.
function noticesCard(s) {
  const LABELS = { operator_joined: "An operator joins", transferred: "The chat is transferred", closed_by_operator: "An operator closes the chat" };
  const fields = Object.keys(s.notice_defaults).map((key) => {
    const input = h("textarea", { class: "field notice-text", id: `notice-${key}`, rows: "2", maxlength: "1024", placeholder: "(not sent)" });
    input.value = s.notices[key] ?? "";
    const reset = h("button", { class: "btn small", type: "button", onclick: () => { input.value = s.notice_defaults[key]; } }, "Default");
    return { key, input, row: h("div", { class: "form-row" }, h("label", { for: `notice-${key}` }, h("b", { text: LABELS[key] || key })), h("div", { class: "notice-edit" }, input, reset)) };
  });
  const result = h("div", { hidden: true, id: "notices-result", role: "alert" });
  const save = h("button", { class: "btn primary", type: "button", id: "save-notices" }, icon("check"), "Save");
  save.addEventListener("click", async () => {
    result.hidden = true;
    try {
      await api("PUT", "/api/admin/settings", { notices: Object.fromEntries(fields.map((f) => [f.key, f.input.value])) });
      result.className = "form-ok"; result.textContent = "Saved.";
    } catch (e) { result.className = "form-error"; result.textContent = e.message; }
    result.hidden = false;
  });
  return h("div", { class: "card", id: "notices-card" }, h("h2", { text: "Messages to the customer" }), h("div", { class: "body" },
    h("p", { class: "muted", text: `Sent on WhatsApp inside the 24-hour window. Variables: ${s.notice_variables.map((v) => `{${v}}`).join(", ")}. Leave a text empty to send nothing.` }),
    ...fields.map((f) => f.row), h("div", {}, save), result));
}

function botRulesCard(initial) {
  // Steps run one after the other while the bot has the chat and the user is silent; only the last may close.
  const rules = initial.map((r) => ({ ...r }));
  const body = h("tbody", {});
  const result = h("div", { hidden: true });
  const render = () => {
    body.replaceChildren(...rules.map((r, i) => {
      const after = h("input", { class: "field num", type: "number", min: "1", "aria-label": `Rule ${i + 1}: minutes` });
      after.value = r.after_minutes;
      after.addEventListener("input", () => { r.after_minutes = Number(after.value); });
      const action = h("select", { class: "field", "aria-label": `Rule ${i + 1}: action` },
        h("option", { value: "nudge", text: "Send a nudge" }), h("option", { value: "close", text: "Send and close" }));
      action.value = r.action;
      action.addEventListener("change", () => { r.action = action.value; });
      const text = h("textarea", { class: "field", rows: "2", maxlength: "1024", "aria-label": `Rule ${i + 1}: message` });
      text.value = r.text;
      text.addEventListener("input", () => { r.text = text.value; });
      return h("tr", { class: "rule" }, h("td", { class: "nowrap" }, after, h("span", { class: "unit", text: "min" })), h("td", {}, action), h("td", { class: "wide" }, text),
        h("td", {}, h("button", { class: "btn small ghost", type: "button", title: "Remove this rule", onclick: () => { rules.splice(i, 1); render(); } }, "Remove")));
    }));
    if (!rules.length) body.append(h("tr", {}, h("td", { colspan: "4", class: "muted", text: "No rules: the bot leaves silent chats open." })));
  };
  render();
  const add = h("button", { class: "btn", type: "button", id: "add-rule", onclick: () => { rules.push({ after_minutes: 10, action: "nudge", text: "" }); render(); } }, "Add rule");
  const save = h("button", { class: "btn primary", type: "button", id: "save-rules" }, icon("check"), "Save rules");
  save.addEventListener("click", async () => {
    result.hidden = true;
    try {
      await api("PUT", "/api/admin/settings", { bot_idle_rules: rules });
      result.className = "form-ok"; result.textContent = "Saved.";
    } catch (e) { result.className = "form-error"; result.textContent = e.message; }
    result.hidden = false;
  });
  return h("div", { class: "card" }, h("h2", { text: "Bot idle rules" }),
    h("div", { class: "body" }, h("p", { class: "muted", text: "While the bot has a chat and the user says nothing: each step waits its minutes after the previous one (the first after the user's last message). Any message from the user starts over." })),
    h("table", { class: "grid" }, th("After", "Action", "Message", ""), body),
    h("div", { class: "body" }, h("div", { class: "inline-form" }, add, save), result));
}

async function adminTemplates() {
  const [rows, wabas] = await Promise.all([api("GET", "/api/admin/templates"), api("GET", "/api/admin/wabas")]);
  const reload = () => renderAdmin("templates");
  const register = () => formModal({
    title: "Register a template",
    intro: "Submitted to Meta for this WABA's review. It stays pending until Meta's review arrives (a webhook, or Sync with Meta); only approved templates are offered to operators. Templates do not move with a number from another provider.",
    fields: [
      { name: "waba_id", label: "Business account", type: "select", options: wabas.map((w) => ({ value: w.id, label: `${w.name} (${w.id})` })) },
      { name: "name", label: "Name", placeholder: "order_update", help: "Lower-case letters, digits and _ (Meta's rule)." },
      { name: "language", label: "Language", value: "en", placeholder: "en, en_US, ja" },
      { name: "category", label: "Category", type: "select", value: "UTILITY", options: ["UTILITY", "MARKETING", "AUTHENTICATION"].map((c) => ({ value: c, label: c })) },
      { name: "header", label: "Header (optional)", maxlength: 60 },
      { name: "body", label: "Body", type: "textarea", maxlength: 1024, help: "{{1}}, {{2}}… are filled in by the operator when sending." },
      { name: "footer", label: "Footer (optional)", maxlength: 60 }],
    submitLabel: "Submit to Meta",
    submit: async (v) => { const t = await api("POST", "/api/admin/templates", v); toast(`${t.name} submitted to Meta: ${t.status.toLowerCase()}.`, "ok"); reload(); },
  });
  const sync = async (ev) => {
    const btn = ev.currentTarget;
    btn.disabled = true;
    try {
      const r = await api("POST", "/api/admin/templates/sync", {});
      const n = (k) => r.wabas.reduce((a, w) => a + (Array.isArray(w[k]) ? w[k].length : w[k]), 0);
      toast(`Synced with Meta: ${n("created")} new, ${n("updated")} updated, ${n("deleted")} no longer at Meta.`, "ok");
      reload();
    } catch (e) { toast(e.message, "error"); btn.disabled = false; }
  };
  const waba = Object.fromEntries(wabas.map((w) => [w.id, w.name]));
  return [h("div", { class: "page-head" }, h("div", {}, h("h1", { text: "Message templates" }),
      h("p", { class: "lead-in", text: "Outside the 24-hour customer-service window WhatsApp delivers only approved templates. Operators pick from the approved ones of the chat's business account." })),
    h("div", { class: "head-actions" }, h("button", { class: "btn ghost", type: "button", id: "sync-templates", onclick: sync, disabled: !wabas.length }, "Sync with Meta"),
      h("button", { class: "btn primary", type: "button", id: "add-template", onclick: register, disabled: !wabas.length }, "Register template"))),
    h("div", { class: "card" }, h("table", { class: "grid" }, th("Template", "Business account", "Category", "Text", "Status", ""),
      h("tbody", {}, rows.length ? rows.map((t) => h("tr", { dataset: { template: t.name } },
        h("td", { class: "nowrap" }, h("b", { text: t.name }), h("div", { class: "muted small", text: t.language })),
        h("td", { class: "nowrap", text: waba[t.waba_id] || t.waba_id }),
        h("td", { text: t.category.toLowerCase() }),
        h("td", { class: "tpl-text" }, t.header ? h("b", { text: t.header }) : null, h("div", { text: t.body }), t.footer ? h("small", { class: "muted", text: t.footer }) : null),
        h("td", {}, h("span", { class: `tpl-status ${t.status.toLowerCase()}`, text: t.status.toLowerCase() }),
          t.status_reason ? h("div", { class: "reason", text: t.status_reason }) : null),
        h("td", { class: "nowrap right muted small", text: t.meta_template_id ? `Meta id ${t.meta_template_id}` : "not at Meta" })))
        : h("tr", {}, h("td", { colspan: "6", class: "muted", text: "No templates yet." })))))];
}

async function adminCredits() {
  const c = await api("GET", "/api/admin/credits");
  const reload = () => renderAdmin("credits");
  const price = Number(c.price.credit_usd), feeRate = Number(c.price.fee_rate);
  const money = (n) => n.toFixed(2);
  const buy = () => {
    const count = h("input", { class: "field num", type: "number", id: "buy-credits", min: "1", value: "10", "aria-label": "Credits" });
    const total = h("div", { class: "buy-total", id: "buy-total" });
    const show = () => {
      const n = Math.max(0, Math.floor(Number(count.value) || 0));
      const value = n * price, fee = Math.round(value * feeRate * 100) / 100;
      total.textContent = `${n} credit${n === 1 ? "" : "s"}: USD ${money(value)} + ${Math.round(feeRate * 100)}% fee ${money(fee)} = USD ${money(value + fee)}`;
    };
    count.addEventListener("input", show);
    show();
    modal({
      title: "Buy credits",
      body: [h("p", { text: `One credit costs USD ${c.price.credit_usd}; each purchase adds a ${Math.round(feeRate * 100)}% fee. Conversation costs are deducted from the balance once the month's free conversations are used.` }), count, total],
      actions: [{ label: "Cancel" }, { label: "Buy", kind: "primary", icon: "coins", run: async () => {
        try {
          const p = await api("POST", "/api/admin/credits", { credits: Math.floor(Number(count.value)) });
          toast(`Bought ${p.credits} credit${p.credits === 1 ? "" : "s"} for USD ${p.total_usd}. Balance USD ${p.balance_usd}.`, "ok");
          reload();
        } catch (e) { toast(e.message, "error"); return false; }
      } }],
    });
  };
  const peak = Math.max(1, ...c.usage.map((u) => u.total));
  const chart = h("div", { class: "chart", role: "img", "aria-label": "Conversations per month: free and paid" },
    c.usage.map((u) => {
      const col = h("div", { class: "col", title: `${u.month}: ${u.total} conversations (${u.free} free, ${u.paid} paid), USD ${u.cost_usd}` });
      const bar = h("div", { class: "bar" });
      for (const [part, n] of [["paid", u.paid], ["free", u.free], ["other", u.not_billable]]) {
        if (!n) continue;
        const seg = h("div", { class: `seg ${part}` });
        seg.style.height = `${(n / peak) * 100}%`;
        bar.append(seg);
      }
      col.append(h("span", { class: "n", text: String(u.total) }), bar, h("span", { class: "m", text: u.month }),
        h("span", { class: "cost", text: `USD ${u.cost_usd}` }));
      return col;
    }));
  // The low-balance warning level (admins see the banner below it).
  const warnAt = h("input", { class: "field num", type: "number", id: "warning-usd", min: "0", step: "0.01", "aria-label": "Warning level in USD" });
  warnAt.value = c.low_balance_threshold_usd;
  const warnResult = h("div", { id: "warning-result", hidden: true, role: "alert" });
  const saveWarning = async () => {
    warnResult.hidden = true;
    try {
      const r = await api("PUT", "/api/admin/credits/warning", { usd: warnAt.value.trim() });
      toast(`Admins are warned below USD ${r.low_balance_threshold_usd}.`, "ok");
      reload();
    } catch (e) { warnResult.className = "form-error"; warnResult.textContent = e.message; warnResult.hidden = false; }
  };
  warnAt.addEventListener("keydown", (e) => { if (e.key === "Enter") saveWarning(); });
  // The monthly billing report, as CSV (UTC calendar months, like the free tier).
  const reportMonth = h("input", { class: "field", type: "month", id: "report-month", max: c.month, required: true, "aria-label": "Month" });
  reportMonth.value = c.month;
  const download = h("a", { class: "btn", id: "download-report", download: "" }, icon("take"), "Download CSV");
  const reportResult = h("div", { class: "form-error", id: "report-result", hidden: true, role: "alert" });
  const setHref = () => {
    const ok = /^\d{4}-(0[1-9]|1[0-2])$/.test(reportMonth.value);
    reportResult.hidden = ok;
    reportResult.textContent = ok ? "" : "Pick a month.";
    download.toggleAttribute("aria-disabled", !ok);
    if (ok) download.setAttribute("href", `/api/admin/credits/report?month=${encodeURIComponent(reportMonth.value)}`);
    else download.removeAttribute("href");
  };
  reportMonth.addEventListener("input", setHref);
  setHref();
  const row = (label, help, ...control) => h("div", { class: "form-row" }, h("label", {}, h("b", { text: label }), h("span", { text: help })),
    h("div", { class: "inline-form" }, ...control));
  const KIND = { purchase: "Purchase", conversation: "Conversation", reconciliation: "Reconciliation", refund: "Refund", adjustment: "Adjustment" };
  return [h("div", { class: "page-head" }, h("div", {}, h("h1", { text: "Credits" }),
      h("p", { class: "lead-in", text: "Each business account gets its first 1,000 conversations of every calendar month free (unused ones do not carry over); after that conversations are paid from prepaid credits. With neither, nothing that would open a paid conversation is sent." })),
    h("div", { class: "head-actions" }, h("button", { class: "btn primary", type: "button", id: "buy", onclick: buy }, icon("coins"), "Buy credits"))),
    c.warning ? h("div", { class: "notice warn banner", id: "credit-warning" }, icon("alert"), h("span", { text: c.warning[0].toUpperCase() + c.warning.slice(1) })) : null,
    h("div", { class: "stats" },
      h("div", { class: "card stat" }, h("small", { text: "Balance" }), h("b", { id: "balance", text: `USD ${c.balance_usd}` }), h("span", { class: "muted", text: `${Number(c.credits)} credit${Number(c.credits) === 1 ? "" : "s"}` })),
      ...c.free_tier.map((t) => h("div", { class: "card stat" }, h("small", { text: `Free conversations ${c.month} · ${t.waba.name}` }),
        h("b", { text: `${Math.max(0, t.limit - t.used).toLocaleString("en")} left` }), h("span", { class: "muted", text: `${t.used.toLocaleString("en")} of ${t.limit.toLocaleString("en")} used` })))),
    h("div", { class: "card" }, h("h2", { text: "Warning and reports" }), h("div", { class: "body" },
      row("Low-balance warning", "Admins see a warning here when the balance drops below this amount (0: only when it is empty).",
        h("div", {}, h("span", { class: "unit pre", text: "USD" }), warnAt),
        h("button", { class: "btn primary", type: "button", id: "save-warning", onclick: saveWarning }, icon("check"), "Save"), warnResult),
      row("Monthly billing report", "Conversations by market and category (free and paid) and the credits bought and spent in a calendar month (UTC), as CSV.",
        reportMonth, download, reportResult))),
    h("div", { class: "card" }, h("h2", { text: "Monthly usage" }), h("div", { class: "body" }, chart,
      h("div", { class: "legend" }, h("span", { class: "key free" }), "free", h("span", { class: "key paid" }), "paid", h("span", { class: "key other" }), "not billable"))),
    h("div", { class: "card" }, h("h2", { text: "Ledger" }), h("table", { class: "grid" }, th("When", "Entry", "Amount", "Fee", "By", "Note"),
      h("tbody", {}, c.ledger.length ? c.ledger.map((e) => h("tr", {},
        h("td", { class: "nowrap", text: stamp(e.at) }),
        h("td", { text: KIND[e.kind] || e.kind, title: e.kind }, e.credits ? h("span", { class: "muted", text: ` · ${e.credits} credit${Math.abs(e.credits) === 1 ? "" : "s"}` }) : null),
        h("td", { class: `num ${e.amount_usd.startsWith("-") ? "neg" : "pos"}`, text: `USD ${e.amount_usd}` }),
        h("td", { class: "num", text: Number(e.fee_usd) ? `USD ${e.fee_usd}` : "—" }),
        h("td", { text: e.by || "—" }), h("td", { class: "muted", text: e.note || "" })))
        : h("tr", {}, h("td", { colspan: "6", class: "muted", text: "No entries yet." })))))];
}

async function adminCanned() {
  const rows = await api("GET", "/api/admin/canned");
  const shortcut = h("input", { class: "field", placeholder: "shortcut, e.g. thanks", maxlength: "40", "aria-label": "Shortcut" });
  const title = h("input", { class: "field", placeholder: "Title", maxlength: "200", "aria-label": "Title" });
  const text = h("textarea", { class: "field", placeholder: "Text sent to the user", "aria-label": "Text" });
  const result = h("div", { hidden: true });
  const add = h("button", { class: "btn primary", type: "button" }, "Add canned response");
  add.addEventListener("click", async () => {
    try {
      await api("POST", "/api/admin/canned", { shortcut: shortcut.value, title: title.value, text: text.value });
      S.canned = await api("GET", "/api/canned");
      renderAdmin("canned");
    } catch (e) { result.className = "form-error"; result.textContent = e.message; result.hidden = false; }
  });
  return [h("h1", { text: "Canned responses" }),
    h("p", { class: "lead-in", text: "Operators type / and the shortcut in the reply box to insert these. A text may use {name} (the customer's WhatsApp name, or \"there\"), {operator} (the operator's name) and {brand}." }),
    h("div", { class: "card" }, h("table", { class: "grid" }, th("Shortcut", "Title", "Text", ""),
      h("tbody", {}, rows.length ? rows.map((c) => h("tr", {}, h("td", {}, h("code", { text: "/" + c.shortcut })), h("td", { text: c.title }),
        h("td", { class: "muted", text: c.text }),
        h("td", { class: "nowrap right" }, h("button", { class: "btn ghost small", type: "button", onclick: () => formModal({
          title: `Edit /${c.shortcut}`,
          fields: [{ name: "shortcut", label: "Shortcut", value: c.shortcut, maxlength: 40 }, { name: "title", label: "Title", value: c.title, maxlength: 200 },
            { name: "text", label: "Text sent to the user", type: "textarea", value: c.text, maxlength: 4096 }],
          submit: async (v) => { await api("PUT", `/api/admin/canned/${c.id}`, v); S.canned = await api("GET", "/api/canned"); renderAdmin("canned"); },
        }) }, "Edit"), " ", h("button", { class: "btn danger small", type: "button", onclick: async () => {
          try { await api("DELETE", `/api/admin/canned/${c.id}`); S.canned = await api("GET", "/api/canned"); renderAdmin("canned"); } catch (e) { toast(e.message, "error"); }
        } }, "Delete"))))
        : h("tr", {}, h("td", { colspan: "4", class: "muted", text: "No canned responses yet." }))))),
    h("div", { class: "card" }, h("h2", { text: "New canned response" }), h("div", { class: "body" },
      h("div", { class: "inline-form" }, shortcut, title, text, add), result))];
}

async function adminTags() {
  const rows = await api("GET", "/api/admin/tags");
  const name = h("input", { class: "field", placeholder: "New tag", maxlength: "60", "aria-label": "Tag name" });
  const result = h("div", { hidden: true });
  const add = async () => {
    try {
      await api("POST", "/api/admin/tags", { name: name.value });
      S.tags = await api("GET", "/api/tags");
      renderAdmin("tags");
    } catch (e) { result.className = "form-error"; result.textContent = e.message; result.hidden = false; }
  };
  name.addEventListener("keydown", (e) => { if (e.key === "Enter") add(); });
  return [h("h1", { text: "Tags" }),
    h("p", { class: "lead-in", text: "Operators label chats with these tags." }),
    h("div", { class: "card" }, h("div", { class: "body" },
      h("div", { class: "chips" }, rows.length ? rows.map((t) => h("span", { class: "tag" }, t.name, h("small", { text: `${t.chats} chat${t.chats === 1 ? "" : "s"}` }),
        h("button", { type: "button", title: `Delete ${t.name}`, onclick: async () => {
          try { await api("DELETE", `/api/admin/tags/${t.id}`); S.tags = await api("GET", "/api/tags"); renderAdmin("tags"); } catch (e) { toast(e.message, "error"); }
        } }, "×"))) : h("span", { class: "muted", text: "No tags yet." })))),
    h("div", { class: "card" }, h("h2", { text: "New tag" }), h("div", { class: "body" }, h("div", { class: "inline-form" }, name,
      h("button", { class: "btn primary", type: "button", onclick: add }, "Add tag")), result))];
}

// ---------------------------------------------------------------- bot chats: take over, hand back (issue 11)
async function takeoverMove(move) {
  const d = S.detail;
  if (!d) return;
  try {
    await api("POST", `/api/chats/${d.id}/${move}`);
    toast(move === "take-over" ? "You have this chat now: the bot is paused." : "The bot has this chat again: the user's next message goes to it.", "ok");
    if (move === "take-over") location.hash = `#/inbox/mine/${d.id}`;
    else { await loadCounts(true); await loadList(true); await loadChat(false, true); }
  } catch (e) { toast(e.message, "error"); }
}

// ---------------------------------------------------------------- records: tickets, leads, contacts (issue 11)
const RECORDS = {
  tickets: { title: "Tickets", intro: "Messages customers left, and tickets made from chats. Open tickets without an owner wait in their department's queue: take one, answer the customer on WhatsApp, close it." },
  leads: { title: "Leads", intro: "Leads the bot captured. With no CRM to push them to, they are tasks for the sales department: take one, follow it up, mark it done." },
  contacts: { title: "Contacts", intro: "Everyone who wrote to your numbers, with their latest chat." },
};
const OWNER_OPTIONS = [["any", "Anyone"], ["me", "Mine"], ["unassigned", "Unassigned"]];
const recordFilters = { tickets: { state: "open", owner: "any", department: "", q: "" },
  leads: { task: "all", owner: "any", crm: "all", department: "", q: "" }, contacts: { state: "all", owner: "any", q: "" } };
let directoryCache = null;

function selectEl(id, label, options, value, onchange) {
  const el = h("select", { class: "field", id, "aria-label": label }, options.map(([v, t]) => h("option", { value: v, text: t })));
  el.value = value;
  el.addEventListener("change", () => onchange(el.value));
  return el;
}
const ownerName = (o) => (o ? (o.id === S.me.id ? "You" : o.name) : null);

async function renderRecords(page, openId) {
  const pane = $("#admin-pane");
  const f = recordFilters[page];
  if (!directoryCache) { try { directoryCache = await api("GET", "/api/directory"); } catch (_) { directoryCache = { departments: [] }; } }
  const depts = [["", "All departments"], ...directoryCache.departments.map((d) => [String(d.id), d.name])];
  const tbody = h("tbody");
  const sub = h("span", { class: "muted records-count" });
  const reload = async (background = false) => {
    if (S.view !== "records" || S.recordsPage !== page) return;
    const params = new URLSearchParams(Object.entries(f).filter(([, v]) => v !== ""));
    let data;
    try { data = await api("GET", `/api/${page}?${params}`, undefined, { background }); } catch (e) { if (!background) toast(e.message, "error"); return; }
    syncClock(data.now);
    const rows = data[page];
    sub.textContent = `${rows.length} shown`;
    tbody.replaceChildren(...(rows.length ? rows.map((r) => RECORD_ROWS[page](r, reload)) : [h("tr", {}, h("td", { colspan: "7", class: "muted", text: f.q ? "Nothing matches your search." : "Nothing here with these filters." }))]));
  };
  S.recordsReload = reload;
  const search = h("input", { class: "field", type: "search", id: "records-search", placeholder: page === "contacts" ? "Search name, number, lead email" : "Search", value: f.q, autocomplete: "off" });
  let timer = null;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => { f.q = search.value.trim(); reload(); }, 200); });
  const set = (key) => (v) => { f[key] = v; reload(); };
  const filters = [search];
  if (page === "tickets") filters.push(selectEl("f-state", "State", [["open", "Open"], ["closed", "Closed"], ["all", "All"]], f.state, set("state")));
  if (page === "leads") {
    filters.push(selectEl("f-task", "Task", [["all", "All leads"], ["open", "Open tasks"], ["done", "Done"], ["none", "Not a task"]], f.task, set("task")));
    filters.push(selectEl("f-crm", "CRM", [["all", "Any CRM state"], ["pending", "CRM: pending"], ["pushed", "CRM: pushed"], ["failed", "CRM: failed"]], f.crm, set("crm")));
  }
  if (page === "contacts") filters.push(selectEl("f-state", "Chat", [["all", "Any chat"], ["live", "In a live chat"], ["bot", "With the bot"], ["queued", "Waiting"], ["open", "With an operator"], ["none", "No live chat"]], f.state, set("state")));
  filters.push(selectEl("f-owner", "Owner", OWNER_OPTIONS, f.owner, set("owner")));
  if (page !== "contacts") filters.push(selectEl("f-department", "Department", depts, f.department, set("department")));
  const heads = { tickets: ["#", "Subject", "Customer", "State", "Queue / owner", "Created", ""],
    leads: ["Lead", "Interest", "Contact", "Task", "Queue / owner", "CRM", ""],
    contacts: ["Contact", "Latest chat", "Owner", "Chats", "Leads", "Tickets", ""] }[page];
  pane.replaceChildren(h("h1", { text: RECORDS[page].title }), h("p", { class: "lead-in", text: RECORDS[page].intro }),
    h("div", { class: "card records" }, h("div", { class: "records-filters" }, ...filters, h("span", { class: "grow" }), sub),
      h("table", { class: "grid", id: `${page}-table` }, th(...heads), tbody)));
  await reload();
  if (page === "tickets" && openId) openTicketDetail(openId, reload);
}

const RECORD_ROWS = {
  tickets(t, reload) {
    const owner = t.operator ? ownerName(t.operator) : null;
    return h("tr", { class: "clickable", dataset: { ticketId: t.id }, onclick: () => { location.hash = `#/records/tickets/${t.id}`; openTicketDetail(t.id, reload); } },
      h("td", { class: "num", text: `#${t.id}` }),
      h("td", {}, h("b", { text: t.subject }), t.message ? h("div", { class: "muted", text: t.message }) : null),
      h("td", {}, h("div", { text: displayName(t.contact) }), h("div", { class: "muted", text: handle(t.contact) })),
      h("td", {}, h("span", { class: `badge ${t.state === "open" ? (t.operator ? "open" : "waiting") : "closed"}`, text: t.state === "open" ? (t.operator ? "open" : "queued") : "closed" }),
        t.replies ? h("div", { class: "muted", text: `${t.replies} repl${t.replies === 1 ? "y" : "ies"}` }) : null),
      h("td", {}, owner ? h("span", { text: owner }) : h("span", { class: "muted", text: `Queued for ${t.department ? t.department.name : "no department"}` })),
      h("td", { class: "muted", dataset: { rel: t.created_at }, text: relative(t.created_at) }),
      h("td", { class: "right" }, h("button", { class: "btn small", type: "button", text: "Open" })));
  },
  leads(l, reload) {
    const task = l.task;
    const act = async (move) => { try { await api("POST", `/api/leads/${l.id}/${move}`); toast(move === "take" ? "The lead is yours." : move === "done" ? "Marked done." : "Reopened.", "ok"); await reload(); loadCounts(true); } catch (e) { toast(e.message, "error"); } };
    const buttons = [];
    if (task && task.state === "open" && !l.operator) buttons.push(h("button", { class: "btn primary small", type: "button", dataset: { act: "take" }, onclick: () => act("take") }, "Take"));
    if (task && task.state === "open" && l.operator) buttons.push(h("button", { class: "btn small", type: "button", dataset: { act: "done" }, onclick: () => act("done") }, icon("check"), "Done"));
    if (task && task.state === "done") buttons.push(h("button", { class: "btn ghost small", type: "button", dataset: { act: "reopen" }, onclick: () => act("reopen") }, "Reopen"));
    if (l.chat_id) buttons.push(h("a", { class: "btn ghost small", href: `#/inbox/closed/${l.chat_id}` }, "Chat"));
    return h("tr", { dataset: { leadId: l.id } },
      h("td", {}, h("b", { text: l.name || "(no name)" }), h("div", { class: "muted", text: [l.email, l.company].filter(Boolean).join(" · ") })),
      h("td", { text: l.interest || "" }),
      h("td", {}, h("div", { text: displayName(l.contact) }), h("div", { class: "muted", text: handle(l.contact) })),
      h("td", {}, task ? h("span", { class: `badge ${task.state === "done" ? "closed" : l.operator ? "open" : "waiting"}`, text: task.state === "done" ? "done" : l.operator ? "open" : "queued" }) : h("span", { class: "muted", text: "—" })),
      h("td", {}, l.operator ? h("span", { text: ownerName(l.operator) }) : task ? h("span", { class: "muted", text: `Queued for ${l.department ? l.department.name : "no department"}` }) : h("span", { class: "muted", text: "—" })),
      h("td", {}, h("span", { class: "muted", text: `CRM: ${l.crm_state}` })),
      h("td", { class: "right nowrap" }, ...buttons));
  },
  contacts(c) {
    const lc = c.last_chat;
    const listOf = { bot: "bot", waiting: "waiting", unattended: "unattended", open: "mine", closed: "closed" }[lc.state] || "closed";
    return h("tr", { dataset: { contactId: c.id } },
      h("td", {}, h("b", { text: displayName(c) }), h("div", { class: "muted", text: handle(c) })),
      h("td", {}, h("span", { class: `badge ${lc.state}`, text: lc.state }), " ", h("span", { class: "muted", dataset: { rel: lc.last_activity_at }, text: relative(lc.last_activity_at) }),
        lc.number ? h("div", { class: "muted", text: `to ${lc.number}` }) : null),
      h("td", { text: lc.operator || (lc.state === "bot" ? "Bot" : lc.department ? `Queued for ${lc.department}` : "—") }),
      h("td", { class: "num", text: String(c.chats) }), h("td", { class: "num", text: String(c.leads) }), h("td", { class: "num", text: String(c.tickets) }),
      h("td", { class: "right" }, h("a", { class: "btn ghost small", href: `#/inbox/${listOf}/${lc.id}` }, "Open chat")));
  },
};

async function openTicketDetail(ticketId, reload) {
  let t;
  try { t = await api("GET", `/api/tickets/${ticketId}`); } catch (e) { toast(e.message, "error"); return; }
  const error = h("div", { class: "form-error", hidden: true, role: "alert" });
  const fail = (e) => { error.textContent = e.message; error.hidden = false; };
  const after = async (fresh, text) => { if (text) toast(text, "ok"); await reload(true); loadCounts(true); m.close(); openTicketDetail(fresh.id || ticketId, reload); };
  const cp = t.composer;
  const composer = [];
  if (cp.enabled && cp.window_open) {
    const text = h("textarea", { class: "field", id: "ticket-reply", rows: "3", placeholder: "Answer the customer on WhatsApp…", "aria-label": "Answer" });
    composer.push(text, h("div", { class: "tpl-actions" }, h("span", { class: "muted", text: "Inside WhatsApp's 24-hour window: free text goes out now." }),
      h("button", { class: "btn primary", type: "button", id: "ticket-send", onclick: async () => {
        try { const r = await api("POST", `/api/tickets/${t.id}/reply`, { text: text.value }); await after(r.ticket, "Answer queued for WhatsApp."); } catch (e) { fail(e); }
      } }, icon("send"), "Send on WhatsApp")));
  } else if (cp.enabled) {
    const list = cp.templates;
    const select = h("select", { class: "field", id: "ticket-template", "aria-label": "Approved template" }, list.map((x, i) => h("option", { value: String(i), text: `${x.name} (${x.language})` })));
    const params = h("div", { class: "tpl-params" });
    const build = () => { const x = list[Number(select.value)]; params.replaceChildren(...Array.from({ length: x.params.body }, (_, i) => h("input", { class: "field", placeholder: `body {{${i + 1}}}`, "aria-label": `body parameter ${i + 1}` }))); };
    select.addEventListener("change", build);
    build();
    composer.push(h("p", { class: "muted", text: "The customer last wrote more than 24 hours ago: WhatsApp allows only an approved template." }),
      h("div", { class: "tpl-row" }, select, params),
      h("div", { class: "tpl-actions" }, h("button", { class: "btn primary", type: "button", id: "ticket-send-template", onclick: async () => {
        const x = list[Number(select.value)];
        try {
          const r = await api("POST", `/api/tickets/${t.id}/reply`, { template: { name: x.name, language: x.language, body_params: $$("input", params).map((i) => i.value) } });
          await after(r.ticket, `Template ${x.name} queued for WhatsApp.`);
        } catch (e) { fail(e); }
      } }, icon("send"), "Send template")));
  } else composer.push(h("div", { class: "notice", id: "ticket-reason", text: cp.reason }));
  const replies = t.replies.map((r) => h("div", { class: "ticket-reply" }, h("div", { class: "muted" }, `${r.operator || "Operator"} · ${stamp(r.at)} · ${r.kind}`,
    r.status ? ` · ${r.status}` : ""), h("div", { text: r.body }),
    r.failure ? h("div", { class: "err failure" }, h("div", { class: "what", text: r.failure.text }), h("div", { class: "next", text: r.failure.next_step }),
      h("small", { class: "detail", text: `WhatsApp said: ${r.error}` }))
      : r.error ? h("div", { class: "err", text: r.error }) : null));
  const actions = [{ label: "Close window" }];
  const move = (what, text) => ({ label: { take: "Take", close: "Close ticket", reopen: "Reopen" }[what], kind: what === "take" ? "primary" : what === "close" ? "danger" : "", run: async () => {
    try { const r = await api("POST", `/api/tickets/${t.id}/${what}`); await after(r, text); } catch (e) { fail(e); }
    return false;
  } });
  if (t.actions.take) actions.push(move("take", "The ticket is yours."));
  if (t.actions.close) actions.push(move("close", "Ticket closed."));
  if (t.actions.reopen) actions.push(move("reopen", "Ticket reopened."));
  const meta = [`#${t.id}`, t.state === "open" ? (t.operator ? `with ${ownerName(t.operator)}` : `queued for ${t.department ? t.department.name : "no department"}`) : `closed by ${t.closed_by}`,
    `${t.contact.name || ""} ${handle(t.contact)}`.trim(), `created ${stamp(t.created_at)} by ${t.source === "message" ? "the customer (left a message)" : t.created_by}`];
  const m = modal({ title: t.subject, body: [
    h("div", { class: "muted ticket-meta", text: meta.join(" · ") }),
    t.message ? h("blockquote", { class: "ticket-message", id: "ticket-message", text: t.message }) : null,
    h("details", { class: "ticket-transcript", open: !t.message }, h("summary", { text: "Transcript" }), h("pre", { id: "ticket-transcript", text: t.description })),
    t.origin_chat ? h("p", {}, h("a", { href: `#/inbox/${t.origin_chat.state === "open" ? "mine" : t.origin_chat.state === "bot" ? "bot" : "closed"}/${t.origin_chat.id}`, onclick: () => m.close() }, "Open the chat it came from")) : null,
    replies.length ? h("div", { class: "ticket-replies" }, h("b", { text: "Answers" }), ...replies) : null,
    t.state === "open" ? h("div", { class: "ticket-composer" }, ...composer) : null, error] , actions });
  m.box.classList.add("wide");
}

// ---------------------------------------------------------------- live updates
let refreshing = false, refreshAgain = false, refreshTimer = null;
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 60);
}
async function refresh() {
  if (refreshing) { refreshAgain = true; return; }
  refreshing = true;
  try {
    const jobs = [loadCounts(true)];
    if (S.view === "inbox") jobs.push(loadList(true), loadChat(true));
    if (S.view === "records" && S.recordsReload) jobs.push(S.recordsReload(true));
    await Promise.all(jobs);
  } catch (_) { /* shown on the next user action */ } finally {
    refreshing = false;
    if (refreshAgain) { refreshAgain = false; scheduleRefresh(); }
  }
}

let events = null;
function connectEvents() {
  events = new EventSource("/api/events");
  events.addEventListener("hello", () => { $("#conn").hidden = true; scheduleRefresh(); });
  events.addEventListener("change", () => scheduleRefresh());
  events.addEventListener("session", () => signedOut());
  events.onerror = () => {
    if (S.leaving) return;
    $("#conn").hidden = false;
    if (events.readyState === EventSource.CLOSED) {
      setTimeout(async () => {
        try { await api("GET", "/api/me", undefined, { background: true }); connectEvents(); } catch (_) { setTimeout(connectEvents, 3000); }
      }, 2000);
    }
  };
}

function tickOne(root) {
  for (const el of root.querySelectorAll("[data-since]")) {
    const ms = now() - parse(el.dataset.since);
    el.lastChild.textContent = (el.dataset.prefix || "") + duration(ms);
    el.classList.toggle("long", ms > 10 * 60000);
  }
}
let ticks = 0;
function tick() {
  tickOne(document);
  if (++ticks % 30 === 0) {
    for (const el of $$("[data-rel]")) el.textContent = relative(el.dataset.rel);
    updateWindowHint();
  }
}

boot();
