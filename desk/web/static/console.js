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
  plus: ["M12 5v14", "M5 12h14"],
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
  globe: [circle(12, 12, 9), "M3 12h18", "M12 3a14 14 0 0 1 0 18", "M12 3a14 14 0 0 0 0 18"],
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
// Roles with pages of their own (they answer no chats): the first is where they land.
const ROLE_PAGES = { manager: ["reports"], trainer: ["trainer", "articles"] };
const ROLE_PAGE = Object.fromEntries(Object.entries(ROLE_PAGES).map(([role, pages]) => [role, pages[0]]));
const LISTS = {
  waiting: { title: tr("list.waiting"), group: "waiting", empty: [tr("list.waiting_empty"), tr("list.waiting_empty_help")] },
  mine: { title: tr("list.mine"), empty: [tr("list.mine_empty"), tr("list.mine_empty_help")] },
  unattended: { title: tr("list.unattended"), group: "unattended", empty: [tr("list.unattended_empty"), tr("list.unattended_empty_help")] },
  closed: { title: tr("list.closed"), empty: [tr("list.closed_empty"), tr("list.closed_empty_help")] },
  bot: { title: tr("list.bot"), empty: [tr("list.bot_empty"), tr("list.bot_empty_help")] },
};

class ApiError extends Error {
  constructor(message, status, data = null) { super(message); this.status = status; this.data = data; }
}

async function api(method, path, body, { background = false, headers = {} } = {}) {
  if (method !== "GET") alertsQuiet();  // alerts.js: no chime for what the operator just did
  // The server's refusals come back in the console's language (desk.web.app.translate_errors).
  const opts = { method, credentials: "same-origin", headers: { "Accept-Language": I18N.locale, ...headers } };
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
    throw new ApiError(tr("error.unreachable"), 0);
  }
  let data = null;
  try { data = await resp.json(); } catch (_) { /* empty or not JSON */ }
  if (resp.status === 401) { signedOut(); throw new ApiError((data && data.error) || tr("error.signed_out"), 401); }
  if (!resp.ok) throw new ApiError((data && data.error) || `${resp.status} ${resp.statusText}`, resp.status, data);
  return data;
}

function toast(text, kind = "") {
  const el = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status", title: tr("toast.dismiss"), onclick: () => el.remove() },
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
// Durations and dates in the operator's language (i18n.js: tr, fmtDate, dayKey) and the brand's time zone.
function duration(ms, { seconds = true } = {}) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400), hrs = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  if (d) return tr("dur.d_h", { d, h: hrs });
  if (hrs) return tr("dur.h_m", { h: hrs, m: two(m) });
  if (m) return seconds ? tr("dur.m_s", { m, s: two(sec) }) : tr("dur.m", { m });
  return seconds ? tr("dur.s", { s: sec }) : tr("rel.now");
}
function relative(iso) {
  const t = parse(iso);
  if (!t) return "";
  const diff = now() - t;
  if (diff < 60000) return tr("rel.now");
  if (diff < 3600000) return tr("rel.minutes", { n: Math.floor(diff / 60000) });
  if (diff < 86400000) return tr("rel.hours", { n: Math.floor(diff / 3600000) });
  if (diff < 7 * 86400000) return tr("rel.days", { n: Math.floor(diff / 86400000) });
  return fmtDate(t, { day: "numeric", month: "short" });
}
const clock = (iso) => (iso ? fmtDate(parse(iso), { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }) : "");
// The full date and time (a tooltip), e.g. "2026/12/3 18:05" or "Dec 3, 2026, 18:05".
const fullStamp = (iso) => (iso ? fmtDate(parse(iso), { dateStyle: "medium", timeStyle: "short", hourCycle: "h23" }) : "");
// `inline`: inside a sentence ("due today 10:00").
function stamp(iso, inline = false) {
  if (!iso) return "—";
  const t = parse(iso), lc = inline ? "_inline" : "";
  if (dayKey(t) === dayKey(now())) return tr(`time.today_at${lc}`, { time: clock(iso) });
  if (dayKey(t) === dayKey(now() + 86400000)) return tr(`time.tomorrow_at${lc}`, { time: clock(iso) });
  return fmtDate(t, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}
function dayLabel(iso) {
  const t = parse(iso);
  if (dayKey(t) === dayKey(now())) return tr("time.today");
  if (dayKey(t) === dayKey(now() - 86400000)) return tr("time.yesterday");
  return fmtDate(t, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
}
const MB = 1024 * 1024;
const human = (n) => (n >= MB / 10 ? tr("size.mb", { n: (n / MB).toFixed(1) }) : n >= 1024 ? tr("size.kb", { n: Math.round(n / 1024) }) : tr("size.bytes", { n }));

// Japanese names are family name first: 佐藤 陽翔 -> 佐藤 (as Japanese apps show them).
const CJK = /^[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]/;
function initials(name, fallback) {
  const words = String(name || "").trim().split(/\s+/).filter(Boolean);
  if (!words.length) return String(fallback || "?").slice(-2);
  if (CJK.test(words[0])) return Array.from(words[0]).slice(0, 2).join("");
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
  const manager = S.me.role === "manager" || S.me.role === "trainer", own = ROLE_PAGES[S.me.role] || [];
  for (const el of $$(".admin-only")) el.hidden = !(S.me.role === "admin" || (manager && (own.includes(el.dataset.admin) || el.classList.contains("nav-section"))));
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
  // The operator's own language wins over the browser's; a page in another one is loaded again.
  const wanted = me.locale || I18N.browserLocale();
  if (rememberLocale(me.locale) && wanted !== I18N.locale && I18N.supported.includes(wanted)) {
    S.leaving = true;
    location.reload();
    throw new Error("reloading");
  }
  setTimeZone(me.time_zone || "UTC");
  S.me = me;
  S.csrf = me.csrf_token;
  $("#me-name").textContent = me.name;
  $("#me-email").textContent = `${tr("role." + me.role)} · ${me.departments.map((d) => d.name).join(", ") || tr("common.no_department")}`;
  renderLocaleMenu();
  const av = $("#me-avatar");
  av.firstChild && av.firstChild.nodeType === 3 ? (av.firstChild.textContent = initials(me.name)) : av.prepend(document.createTextNode(initials(me.name)));
  av.style.background = "#2563eb";
  renderStatus();
}

// The console's language, chosen by the operator (PUT /api/me/locale) and kept on their account.
const LOCALE_NAMES = { en: "English", ja: "日本語" };
function renderLocaleMenu() {
  if ($("#locale-select")) return;
  const select = h("select", { class: "field small locale-select", id: "locale-select", "aria-label": tr("locale.label"), title: tr("locale.label") },
    h("option", { value: "", text: tr("locale.browser", { language: LOCALE_NAMES[I18N.browserLocale()] || I18N.browserLocale() }) }),
    (S.me.locales || I18N.supported).map((l) => h("option", { value: l, text: LOCALE_NAMES[l] || l })));
  select.value = S.me.locale || "";
  select.addEventListener("change", async () => {
    try {
      const r = await api("PUT", "/api/me/locale", { locale: select.value || null });
      rememberLocale(r.locale);
      S.leaving = true;
      location.reload();
    } catch (e) { toast(e.message, "error"); select.value = S.me.locale || ""; }
  });
  $("#signout").before(h("label", { class: "locale" }, icon("globe"), select));
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
    toast(status === "online" ? tr("status.online_toast")
      : status === "away" ? tr("status.away_toast") : tr("status.offline_toast"), "ok");
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
  const own = ROLE_PAGE[S.me.role];  // a manager's or a trainer's first page
  if (own && !(parts[0] === "admin" && ROLE_PAGES[S.me.role].includes(parts[1]))) {
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
  document.title = waiting ? tr("page.title_waiting", { waiting }) : tr("page.title");
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
    const [title, text] = q ? [tr("list.no_match"), tr("list.no_match_help")] : LISTS[S.list].empty;
    box.replaceChildren(h("div", { class: "empty" }, icon("inbox"), h("b", { text: title }), h("span", { text })));
    return;
  }
  const items = [];
  if (LISTS[S.list].group) {
    // Queues are grouped by department; the header counts the chats in this list's own word.
    const groups = new Map();
    for (const c of chats) {
      const key = c.department || tr("common.no_department_title");
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(c);
    }
    for (const [dept, group] of groups) {
      items.push(h("div", { class: "group-head" }, h("span", { class: "dept", text: dept }),
        h("span", { class: "group-count", text: tr(`list.group_count.${LISTS[S.list].group}`, { count: group.length }) })));
      items.push(...group.map(chatItem));
    }
  } else items.push(...chats.map(chatItem));
  box.replaceChildren(...items);
}

function chatItem(c) {
  const last = c.last;
  const who = last ? { user: "", bot: tr("preview.bot"), operator: tr("preview.operator"), system: tr("preview.desk") }[last.sender] : "";
  const needsReply = c.state === "open" && last && last.sender === "user";
  const meta = h("div", { class: "meta" }, h("span", { class: `badge ${c.state}`, text: tr("state." + c.state) }));
  if (c.department && !LISTS[S.list].group) meta.append(h("span", { class: "badge dept", text: c.department }));
  if ((c.state === "waiting" || c.state === "unattended") && c.handed_off_at) {
    meta.append(h("span", { class: "wait", dataset: { since: c.handed_off_at, prefix: tr("wait.waiting_prefix") } }, icon("clock"), h("span", { text: "" })));
  } else if (needsReply && last.at) {
    meta.append(h("span", { class: "wait", dataset: { since: last.at, prefix: tr("wait.unanswered_prefix") } }, icon("clock"), h("span", { text: "" })));
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
    h("div", { class: "preview" }, who ? h("span", { class: "from", text: who }) : null, last ? waText(last.text, "ptext") : tr("preview.no_messages")),
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
  C.text = h("textarea", { id: "reply", rows: "3", placeholder: tr("composer.placeholder"), "aria-label": tr("composer.reply") });
  C.file = h("input", { type: "file", hidden: true, id: "attach-input" });
  C.template = h("div", { class: "template-box", id: "template-box", hidden: true });
  C.hint = h("span", { class: "window-hint" });
  C.price = h("span", { class: "price-hint", id: "send-price" });  // what a reply costs now (desk.billing)
  C.send = h("button", { class: "btn primary", type: "button", id: "send" }, icon("send"), tr("common.send"));
  C.cannedBtn = h("button", { class: "btn ghost small", type: "button", title: tr("composer.canned_title") }, icon("zap"), tr("composer.canned"));
  C.faqBtn = h("button", { class: "btn ghost small", type: "button", title: tr("composer.faq_title") }, icon("book"), tr("composer.faq"));
  C.attachBtn = h("button", { class: "btn ghost small", type: "button", title: tr("composer.attach_title") }, icon("clip"), tr("composer.attach"));
  C.popup = h("div", { class: "popup", hidden: true, role: "listbox" });
  C.editor = h("div", { class: "editor" }, C.text,
    h("div", { class: "toolbar" }, C.cannedBtn, C.faqBtn, C.attachBtn, C.file, h("span", { class: "grow" }), C.price, C.hint, C.send));
  C.composer = h("div", { class: "composer" }, C.popup, C.notice, C.template, C.editor);
  $("#conv").append(C.head, C.tagbar, C.messages, C.composer);
  showNoChat();

  C.messages.addEventListener("scroll", () => {
    S.stickToEnd = C.messages.scrollHeight - C.messages.scrollTop - C.messages.clientHeight < 40;
  });
  C.send.addEventListener("click", sendReply);
  C.text.addEventListener("keydown", onReplyKey);
  C.text.addEventListener("input", () => { S.drafts.set(S.chatId, C.text.value); updateCannedPopup(); showTyping(); });
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
  $("#conv-empty").replaceChildren(icon("chat"), h("b", { text: tr("conv.none_open") }),
    h("span", { id: "conv-empty-help", text: tr("conv.none_open_help") }));
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
      $("#conv-empty").replaceChildren(icon("lock"), h("b", { text: tr("conv.not_available") }), h("span", { text: e.message }));
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
  if (d.operator) subParts.push(d.operator.id === S.me.id ? tr("conv.with_you") : tr("conv.with_operator", { operator: d.operator.name }));
  if (d.number) subParts.push(tr("conv.to_number", { number: d.number.display || d.number.id }));
  const buttons = [];
  const a = d.actions;
  if (a.pick) buttons.push(h("button", { class: "btn primary", type: "button", id: "pick", onclick: pickChat }, icon("take"), tr("conv.pick")));
  if (a.take_over) buttons.push(h("button", { class: "btn primary", type: "button", id: "take-over", onclick: () => takeoverMove("take-over"),
    title: tr("conv.take_over_title") }, icon("take"), tr("conv.take_over")));
  if (a.hand_back) buttons.push(h("button", { class: "btn", type: "button", id: "hand-back", onclick: () => takeoverMove("hand-back"),
    title: tr("conv.hand_back_title") }, icon("bot"), tr("conv.hand_back")));
  buttons.push(h("button", { class: "btn", type: "button", id: "transfer", disabled: !a.transfer, onclick: openTransfer,
    title: a.transfer ? tr("conv.transfer_title") : tr("conv.transfer_denied") }, icon("transfer"), tr("conv.transfer")));
  buttons.push(h("button", { class: "btn danger", type: "button", id: "close-chat", disabled: !a.close, onclick: openClose,
    title: a.close ? tr("conv.close_title") : d.state === "closed" ? tr("conv.is_closed") : tr("conv.close_denied") }, icon("x"), tr("conv.close")));
  C.head.replaceChildren(
    avatar(c.name, c.wa_id, "avatar lg"),
    h("div", { class: "title" },
      h("b", {}, h("span", { class: "nm", id: "contact-name", text: displayName(c) })),
      h("div", { class: "sub", title: subParts.join(" · ") }, h("span", { class: `badge ${d.state}`, text: tr("state." + d.state) }), " ", subParts.join(" · "))),
    h("div", { class: "conv-actions" }, buttons));
}

function extraActions(d) {
  const lead = d.leads[0];
  return [
    h("button", { class: "btn small", type: "button", id: "push-lead", disabled: !lead, onclick: () => pushLead(lead),
      title: lead ? tr("lead.push_title") : tr("lead.none_captured") }, icon("upload"), tr("lead.push")),
    h("button", { class: "btn small", type: "button", id: "create-ticket", onclick: openTicket,
      title: tr("ticket.create_title") }, icon("ticket"), tr("ticket.create")),
    h("button", { class: "btn small", type: "button", id: "add-note", onclick: openNote,
      title: tr("note.add_title") }, icon("lock"), tr("note.add")),
  ];
}

function openNote() {
  const d = S.detail;
  const text = h("textarea", { class: "field", id: "note-text", rows: "4", maxlength: "4000", "aria-label": tr("note.label"),
    placeholder: tr("note.placeholder") });
  const error = h("div", { class: "form-error", hidden: true, role: "alert" });
  modal({
    title: tr("note.title"),
    body: [h("p", { class: "muted", text: tr("note.intro", { name: displayName(d.contact) }) }), text, error],
    actions: [{ label: tr("common.cancel") }, { label: tr("note.add"), kind: "primary", icon: "lock", run: async () => {
      try {
        await api("POST", `/api/chats/${d.id}/notes`, { text: text.value });
        toast(tr("note.added"), "ok");
        if (d.id === S.chatId) await loadChat(false, true);
      } catch (e) { error.textContent = e.message; error.hidden = false; return false; }
    } }],
  });
}

function renderTags(d) {
  const chips = d.tags.map((t) => h("span", { class: "tag" }, t.name,
    h("button", { type: "button", title: tr("tag.remove", { name: t.name }), "aria-label": tr("tag.remove_label", { name: t.name }), onclick: () => removeTag(t) }, "×")));
  const add = h("button", { class: "tag-add", type: "button", text: tr("tag.add_chip") });
  add.addEventListener("click", () => {
    const listId = "tag-options";
    const input = h("input", { class: "tag-input", list: listId, placeholder: tr("tag.input_placeholder"), "aria-label": tr("tag.label") });
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
  const price = enabled ? cp.price : null;
  C.price.textContent = price ? priceLabel(price) : "";
  C.price.title = price ? priceReason(price) : "";
  C.text.placeholder = enabled ? tr("composer.placeholder_to", { name: displayName(d.contact) }) : "";
  C.notice.dataset.kind = cp.kind;
  if (enabled) {
    C.notice.hidden = true;
  } else {
    const kind = { window: "warn", pick: "info", closed: "muted", credits: "warn" }[cp.kind] || "muted";
    C.notice.className = `notice ${kind}`;
    const extra = [];
    if (cp.kind === "pick" && d.actions.pick) extra.push(h("button", { class: "btn primary small", type: "button", onclick: pickChat }, icon("take"), tr("conv.pick_chat")));
    C.notice.replaceChildren(icon(cp.kind === "window" ? "clock" : cp.kind === "closed" ? "lock" : cp.kind === "credits" ? "coins" : "info"),
      h("span", { class: "grow", id: "composer-reason", text: cp.reason }), ...extra);
    C.notice.hidden = false;
  }
  updateWindowHint();
}

// The customer sees "typing…" while the operator writes: asked at most every 20 s per chat
// (Meta shows it up to 25 s; desk.services.typing holds back repeats too). Best effort.
const typingSent = new Map();
function showTyping() {
  const d = S.detail;
  if (!d || !d.composer.enabled || !C.text.value.trim()) return;
  const last = typingSent.get(d.id) || 0;
  if (Date.now() - last < 20000) return;
  typingSent.set(d.id, Date.now());
  api("POST", `/api/chats/${d.id}/typing`, {}).catch(() => {});
}

// Why a send costs what it does, in the operator's language (catalog keys price.reason.*;
// the category of a template price is said with price.category.*).
function priceReason(price) {
  if (!price.reason_key) return price.reason || "";
  const params = { ...(price.reason_params || {}) };
  if (params.category) params.category = tr("price.category." + params.category);
  return tr(price.reason_key, params);
}

// A send's price as the billing check gives it (per message, or the conversation it opens).
function priceLabel(price) {
  return price.free ? tr("price.free") : tr("price.paid", { usd: price.usd });
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
    C.template.replaceChildren(h("div", { class: "muted", id: "template-reason", text: cp.template_reason || tr("template.none_approved") }));
    return;
  }
  const select = h("select", { class: "field", id: "template-select", "aria-label": tr("template.approved_one") },
    list.map((t, i) => h("option", { value: String(i), text: `${t.name} (${t.language}) · ${tr("template.category." + t.category.toLowerCase())}${t.price ? ` · ${priceLabel(t.price)}` : ""}` })));
  const params = h("div", { class: "tpl-params" });
  const preview = h("div", { class: "tpl-preview" });
  const reason = cp.template_reason ? h("div", { class: "form-error", id: "template-reason", text: cp.template_reason }) : null;
  const send = h("button", { class: "btn primary", type: "button", id: "send-template", disabled: !!cp.template_reason }, icon("send"), tr("template.send"));
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
        const input = h("input", { class: "field", placeholder: `${tr("template.part." + part)} {{${i}}}`, "aria-label": tr("template.param_label", { part: tr("template.part." + part), n: i }), dataset: { part, n: i } });
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
      toast(tr("template.queued", { name: t.name }), "ok");
      C.tplKey = "";
      S.templatesFor = null;
      await loadChat(false, true);
    } catch (e) { toast(e.message, "error"); } finally { send.disabled = !!cp.template_reason; }
  });
  const hide = asked ? h("button", { class: "btn ghost small", type: "button", id: "hide-templates", onclick: () => { S.templatesFor = null; renderTemplates(S.detail); } }, tr("common.hide")) : null;
  C.template.replaceChildren(h("div", { class: "tpl-head" }, h("b", { text: tr("template.approved") }),
    h("span", { class: "muted", text: tr("template.window_help") }), hide),
  h("div", { class: "tpl-row" }, select, params), preview, ...(reason ? [reason] : []), h("div", { class: "tpl-actions" }, send));
  choose();
}

function updateWindowHint() {
  const d = S.detail;
  if (!d || !d.composer.enabled || !d.composer.window_closes_at) { C.hint.textContent = ""; return; }
  const left = parse(d.composer.window_closes_at) - now();
  C.hint.textContent = left > 0 ? tr("window.left", { duration: duration(left, { seconds: false }) }) : tr("window.closed");
  C.hint.title = tr("window.title");
  C.hint.className = `window-hint${left < 3600000 ? " soon" : ""}`;
}

const TICKS = {
  queued: ["clock", "pending", tr("tick.queued")], sending: ["clock", "pending", tr("tick.sending")], accepted: ["✓", "", tr("tick.accepted")],
  sent: ["✓", "", tr("tick.sent")], delivered: ["✓✓", "", tr("tick.delivered")], read: ["✓✓", "read", tr("tick.read")], failed: ["⚠", "failed", tr("tick.failed")],
};

function messageFoot(m) {
  const foot = h("div", { class: "foot" }, h("span", { text: clock(m.at), title: fullStamp(m.at) }));
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
  if (m.past) bubble.append(h("div", { class: "forwarded past", text: tr("msg.past") }));  // coexistence history
  if (m.forwarded) bubble.append(h("div", { class: "forwarded", text: tr("msg.forwarded") }));
  if (m.reply_to) {  // the customer replied to a message: quote it, as WhatsApp does
    const quoted = S.byWamid && S.byWamid.get(m.reply_to);
    bubble.append(h("div", { class: "quoted", title: tr("msg.in_reply_to"), text: quoted ? (quoted.body || `[${quoted.type}]`) : tr("msg.not_in_chat") }));
  }
  const md = m.media;
  if (md) {
    if (!md.url) bubble.append(h("div", { class: "missing-media", text: tr("msg.media_not_stored", { what: md.kind + (md.filename ? ": " + md.filename : "") }) }));
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
  if (m.contacts && m.contacts.length) {  // contact cards: name, phones, emails
    bubble.append(h("div", { class: "contact-cards" }, m.contacts.map((c) => h("div", { class: "contact-card" },
      icon("users"), h("div", {}, h("b", { text: c.name || tr("msg.contact_card") }),
        ...[...c.phones, ...c.emails].filter(Boolean).map((x) => h("div", { class: "muted", text: x })))))));
  } else if (m.revoked_at) bubble.append(h("span", { class: "text revoked", text: tr("msg.revoked") }));
  else if (m.body) bubble.append(waText(m.body));
  else if (!md) bubble.append(h("span", { class: "text missing-media", text: `[${m.type}]` }));
  if (m.edited && m.edited.length && !m.revoked_at) {  // the customer edited it: what it said before stays readable
    bubble.append(h("div", { class: "edited", title: tr("msg.edited_before", { text: m.edited.filter(Boolean).join(" → ") }), text: tr("msg.edited") }));
  }
  // The buttons (or list rows) the bot offered with this message, as the customer saw them.
  if (m.buttons && m.buttons.length) {
    bubble.append(h("div", { class: "offered", "aria-label": tr("msg.buttons_offered") },
      m.buttons.map((t) => h("span", { class: "offer", text: t }))));
  }
  const who = { user: S.detail ? displayName(S.detail.contact) : tr("sender.user"), bot: tr("sender.bot"), operator: tr("sender.operator"), system: tr("sender.desk") }[m.sender];
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
    buttons.push(h("button", { class: "btn small", type: "button", dataset: { retry: m.id }, onclick: (e) => retryMessage(m, e.currentTarget) }, tr("common.retry")));
  }
  if (mayAnswer && f.action === "template") {
    buttons.push(h("button", { class: "btn small primary", type: "button", dataset: { useTemplate: m.id }, onclick: () => showTemplates() }, icon("send"), tr("template.send")));
  }
  return h("div", { class: "err failure", role: "note" },
    h("div", { class: "what", text: f.text }), h("div", { class: "next", text: f.next_step }),
    buttons.length ? h("div", { class: "failure-actions" }, ...buttons) : null,
    h("small", { class: "detail", text: tr("failure.whatsapp_said", { error: m.error }) }));
}

async function retryMessage(m, btn) {
  btn.disabled = true;
  try {
    await api("POST", `/api/chats/${S.chatId}/messages/${m.id}/retry`);
    toast(tr("failure.queued_again"), "ok");
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
    h("div", { class: "note-head" }, icon("lock", "icon tiny"), h("b", { text: n.author }), h("span", { text: tr("note.head_suffix") }),
      h("small", { text: clock(n.at), title: fullStamp(n.at) })),
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
      if (emoji) (el.querySelector(".bubble") || el).append(h("span", { class: "reaction", title: tr("msg.customer_reacted"), text: emoji }));
      nodes.push(el);
      prev = m;
    }
    if (!list.length) nodes.push(h("div", { class: "empty" }, h("span", { text: tr("msg.none_yet") })));
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
    h("b", { text: c.name || tr("contact.unknown_name") }), h("span", { class: "sub", text: handle(c) }),
    // the business's own name for them, from its WhatsApp Business app contacts (coexistence)
    c.address_book_name ? h("span", { class: "sub address-book", text: tr("contact.address_book", { name: c.address_book_name }) }) : null,
    h("span", { class: "sub", text: "WhatsApp" + (d.number ? tr("side.to_number", { number: d.number.display || d.number.id }) : "") }))));
  const windowText = d.composer.window_closes_at
    ? (parse(d.composer.window_closes_at) > now() ? tr("side.window_open", { duration: duration(parse(d.composer.window_closes_at) - now(), { seconds: false }) }) : "closed")
    : tr("side.window_not_opened");
  const kv = [[tr("side.state"), tr("state." + d.state)], [tr("common.department"), d.department ? d.department.name : "—"], [tr("common.operator"), d.operator ? d.operator.name : "—"],
    [tr("side.started"), stamp(d.opened_at)], [tr("side.handed_over"), stamp(d.handed_off_at)], [tr("side.joined"), stamp(d.assigned_at)],
    [tr("side.window"), windowText]];
  if (d.state === "closed") kv.push([tr("side.closed"), stamp(d.closed_at)], [tr("side.closed_by"), d.closed_by || "—"], [tr("common.reason"), d.close_reason || "—"]);
  if (d.source) kv.push([tr("side.came_from"), `${d.source.type === "ad" ? "an ad" : d.source.type || "a link"}${d.source.headline ? ` “${d.source.headline}”` : ""}${d.source.url ? ` · ${d.source.url}` : ""}`]);
  if (d.csat) kv.push([tr("side.rating"), d.csat.label ? d.csat.label + (d.csat.comment ? ` · “${d.csat.comment}”` : "")
    : d.csat.state === "skipped" ? tr("side.no_survey", { reason: d.csat.skip_reason || tr("side.skipped") }) : tr("side.survey_unanswered")]);
  side.push(h("section", {}, h("h3", { text: tr("side.conversation") }), dl(kv)));
  const lead = d.leads[0];
  const leadSec = h("section", { id: "lead-panel" }, h("h3", {}, h("span", { text: tr("common.lead") }),
    lead ? h("span", { class: "crm" }, h("span", { class: `dot ${lead.crm_state === "pushed" ? "online" : lead.crm_state === "failed" ? "" : "away"}` }), tr("lead.crm_state", { state: tr("crm." + lead.crm_state) })) : null));
  if (lead) {
    leadSec.append(dl([[tr("common.name"), lead.name || "—"], [tr("common.email"), lead.email || "—"], [tr("lead.company"), lead.company || "—"], [tr("lead.interest"), lead.interest || "—"],
      [tr("common.phone"), lead.phone || "—"], [tr("lead.consent"), lead.consent ? tr("common.yes") : tr("common.no")], [tr("lead.captured"), stamp(lead.created_at)]]
      .concat(lead.crm_id ? [[tr("lead.crm_id"), lead.crm_id]] : [])
      .concat(followUpText(lead.follow_up) ? [[tr("lead.follow_up"), followUpText(lead.follow_up)]] : [])));
    leadSec.append(h("button", { class: "btn", type: "button", onclick: () => pushLead(lead) }, icon("upload"),
      lead.crm_state === "pushed" ? tr("lead.push_again") : tr("lead.push")));
    if (d.leads.length > 1) leadSec.append(h("div", { class: "muted", text: tr("lead.earlier", { count: d.leads.length - 1 }) }));
  } else leadSec.append(h("div", { class: "muted", text: tr("lead.none_yet") }));
  side.push(leadSec);
  if (d.previous.length) {
    side.push(h("section", {}, h("h3", { text: tr("side.previous_chats") }), d.previous.map((p) => h("div", { class: "prev" },
      h("a", { href: `#/inbox/${S.list}/${p.id}`, text: `#${p.id} · ${stamp(p.opened_at)}` }), h("span", { class: `badge ${p.state}`, text: tr("state." + p.state) })))));
  }
  $("#side-pane").replaceChildren(...side);
}

// The lead's next-day follow-up (see lead_json in desk/web/api.py); null: nothing to show.
function followUpText(f) {
  if (!f) return null;
  const when = (iso) => stamp(iso, true);
  if (f.state === "sent") return tr("follow_up.sent", { when: when(f.at) });
  if (f.state === "sending") return tr("follow_up.sending");
  if (f.state === "refused") return tr("follow_up.refused", { reason: f.reason || tr("follow_up.refused_reason") });
  if (f.state === "due") return parse(f.at) > now() ? tr("follow_up.due", { when: when(f.at) }) : tr("follow_up.due_now");
  return null;
}

function dl(pairs) {
  return h("dl", { class: "kv" }, pairs.map(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })]));
}

// ---- actions
async function pickChat() {
  try {
    await api("POST", `/api/chats/${S.chatId}/pick`);
    toast(tr("toast.picked"), "ok");
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
    toast(S.canned.length ? tr("composer.lone_shortcut")
      : tr("composer.no_canned"), "error");
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
  // The chat's language first, then the brand's default (languages_first: desk.services.variants).
  const first = (S.detail && S.detail.languages_first) || [];
  const rank = (c) => (first.includes(c.language) ? first.indexOf(c.language) : first.length);
  const hits = S.canned.filter((c) => c.shortcut.startsWith(q.query) || c.title.toLowerCase().includes(q.query))
    .map((c, i) => [c, i]).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1]).map(([c]) => c).slice(0, 8);
  const rows = hits.map((c, i) => h("div", { class: `opt${i === 0 ? " sel" : ""}`, role: "option",
    onmousedown: (e) => e.preventDefault(),
    onclick: () => {
      const ta = C.text, cur = slashQuery();
      if (!cur) return;
      const text = fillCanned(c.text, c.language);
      ta.value = ta.value.slice(0, cur.start) + text + ta.value.slice(ta.selectionStart);
      ta.selectionStart = ta.selectionEnd = cur.start + text.length;
      S.drafts.set(S.chatId, ta.value);
      C.popup.hidden = true;
      ta.focus();
    } }, h("code", { text: "/" + c.shortcut }), languageBadge(c.language), h("span", { class: "t", text: c.title }), h("span", { class: "x", text: fillCanned(c.text, c.language) })));
  C.popup.replaceChildren(h("div", { class: "head", text: S.canned.length ? tr("canned.title") : tr("canned.none_popup") }),
    ...(rows.length ? rows : S.canned.length ? [h("div", { class: "opt" }, h("span", { class: "x", text: tr("canned.no_match", { query: q.query }) }))] : []));
  C.popup.hidden = false;
}

// A canned response's or template's language, when the brand speaks more than one.
function languageBadge(language) {
  if (!language || !S.me || (S.me.languages || []).length < 2) return null;
  return h("span", { class: "lang-badge", title: tr("language." + language.split("_")[0]), text: language.split("_")[0].toUpperCase() });
}

// {name}, {operator}, {brand} of a canned response, with this chat's values (desk.services.canned.fill).
function fillCanned(text, language) {
  const byLanguage = (S.detail && S.detail.canned_values_by_language) || {};
  const values = byLanguage[language] || (S.detail && S.detail.canned_values) || {};
  return String(text).replace(/\{([^{}\s]*)\}/g, (m, key) => (Object.prototype.hasOwnProperty.call(values, key) ? values[key] : m));
}

function openArticles() {
  const search = h("input", { class: "field", type: "search", placeholder: tr("faq.search"), "aria-label": tr("faq.search") });
  const list = h("div", { class: "pick-list" });
  const render = () => {
    const q = search.value.trim().toLowerCase();
    const hits = S.articles.filter((a) => !q || (a.title + " " + a.area + " " + a.answer).toLowerCase().includes(q));
    list.replaceChildren(...(hits.length ? hits.map((a) => h("div", { class: "article", onclick: () => { insertAtCaret(a.answer); dlg.close(); } },
      h("b", { text: a.title }), h("small", { text: a.area }), h("p", { text: a.answer })))
      : [h("div", { class: "empty", text: S.articles.length ? tr("faq.no_match") : tr("faq.none") })]));
  };
  search.addEventListener("input", render);
  render();
  const dlg = modal({ title: tr("composer.faq_title"), body: [search, list], actions: [{ label: tr("common.cancel") }] });
}

function checkOutbound(name, size, mime) {
  // The same rules and words as desk.attachments.check_outbound (rules come from the server).
  const dot = name.lastIndexOf(".");
  const ext = dot >= 0 ? name.slice(dot + 1).toLowerCase() : "";
  const rule = S.rules.find((r) => r.extensions.includes(ext));
  if (!rule) {
    const allowed = S.rules.map((r) => `${r.kind}: ${r.extensions.join("/")}`).join(", ");
    throw new Error(tr("attach.bad_extension", { ext: ext || "?", allowed }));
  }
  const type = (mime || "").split(";")[0].trim().toLowerCase();
  if (type && type !== "application/octet-stream" && !rule.mime_types.includes(type)) {
    throw new Error(tr("attach.bad_type", { name, mime, kind: tr("media." + rule.kind) }));
  }
  if (size <= 0) throw new Error(tr("attach.empty", { name }));
  if (size > rule.max_bytes) throw new Error(tr("attach.too_big", { name, size: (size / MB).toFixed(1), kind: tr("media." + rule.kind), max: Math.floor(rule.max_bytes / MB) }));
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
    toast(tr("attach.not_sent", { reason: e.message }), "error");
    return;
  }
  const chatId = S.chatId;
  const captioned = ["image", "document", "video"].includes(rule.kind);
  const caption = h("input", { class: "field", id: "attach-caption", maxlength: "1024", placeholder: tr("attach.caption_placeholder"), "aria-label": tr("attach.caption") });
  const preview = h("div", { class: "attach-preview" });
  if (rule.kind === "image") {
    const url = URL.createObjectURL(file);
    const img = h("img", { src: url, alt: file.name });
    img.addEventListener("load", () => URL.revokeObjectURL(url));
    preview.append(img);
  } else preview.append(icon("file"));
  preview.append(h("div", {}, h("b", { text: file.name }), h("small", { text: tr("attach.summary", { kind: tr("media." + rule.kind), size: human(file.size), max: Math.floor(rule.max_bytes / MB) }) })));
  modal({
    title: tr("attach.send_to", { name: S.detail ? displayName(S.detail.contact) : tr("attach.the_user") }),
    body: [preview, captioned ? caption : h("p", { class: "muted", text: tr("attach.no_caption_audio") })],
    actions: [{ label: tr("common.cancel") }, { label: tr("common.send"), kind: "primary", icon: "send", run: async () => {
      const form = new FormData();
      if (captioned && caption.value.trim()) form.append("caption", caption.value.trim());
      form.append("file", file, file.name);
      try {
        await api("POST", `/api/chats/${chatId}/attachments`, form, { headers: { "X-File-Size": String(file.size) } });
        toast(tr("attach.queued", { name: file.name }), "ok");
        if (chatId === S.chatId) await loadChat(false, true);
      } catch (e) { toast(tr("attach.not_sent", { reason: e.message }), "error"); return false; }
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
      onclick: () => { mode = m; chosen = null; render(); } }, m === "operator" ? tr("common.operator") : tr("common.department"))));
    const opts = mode === "operator"
      ? dir.operators.filter((o) => !(d.operator && o.id === d.operator.id)).map((o) => h("div", {
        class: `opt${chosen === o.id ? " sel" : ""}${o.status === "offline" ? " offline" : ""}`, onclick: () => { chosen = o.id; render(); } },
        avatar(o.name, o.email), h("div", { class: "grow" }, h("b", { text: o.name + (o.id === S.me.id ? tr("common.you_suffix") : "") }),
          h("small", { text: tr("transfer.operator_sub", { departments: o.departments.map((x) => x.name).join(", ") || tr("common.no_department"), load: o.load, max: o.max_chats }) })),
        h("span", { class: "dot " + o.status, title: tr("status." + o.status) }), h("small", { text: tr("status." + o.status) })))
      : dir.departments.map((x) => h("div", { class: `opt${chosen === x.id ? " sel" : ""}`, onclick: () => { chosen = x.id; render(); } },
        icon("users"), h("div", { class: "grow" }, h("b", { text: x.name }),
          h("small", { text: d.department && d.department.id === x.id ? tr("transfer.current_department") : tr("transfer.joins_queue") })),
        window.hoursBadge ? window.hoursBadge(x.status) : null));  // hours.js: open now, or closed until
    list.replaceChildren(...(opts.length ? opts : [h("div", { class: "empty", text: tr("transfer.nobody") })]));
  };
  render();
  modal({
    title: tr("transfer.title"), body: [h("p", { text: tr("transfer.intro", { name: displayName(d.contact) }) }), seg, list],
    actions: [{ label: tr("common.cancel") }, { label: tr("conv.transfer"), kind: "primary", icon: "transfer", run: async () => {
      if (!chosen) { toast(tr("transfer.choose"), "error"); return false; }
      try {
        const r = await api("POST", `/api/chats/${d.id}/transfer`, mode === "operator" ? { operator_id: chosen } : { department_id: chosen });
        toast(r.operator ? tr("transfer.to_operator", { operator: r.operator }) : r.state === "waiting" ? tr("transfer.to_queue", { position: r.position }) : tr("transfer.now_state", { state: tr("state." + r.state) }), "ok");
        if (!r.visible) location.hash = `#/inbox/${S.list}`;
        scheduleRefresh();
      } catch (e) { toast(e.message, "error"); return false; }
    } }],
  });
}

function openClose() {
  const reason = h("input", { class: "field", placeholder: tr("close.reason_placeholder"), maxlength: "500", "aria-label": tr("common.reason") });
  modal({
    title: tr("close.title"),
    body: [h("p", { text: tr("close.intro") }), reason],
    actions: [{ label: tr("common.cancel") }, { label: tr("close.confirm"), kind: "danger solid", icon: "x", run: async () => {
      try {
        await api("POST", `/api/chats/${S.chatId}/close`, { reason: reason.value.trim() || undefined });
        toast(tr("close.done"), "ok");
        scheduleRefresh();
      } catch (e) { toast(e.message, "error"); return false; }
    } }],
  });
}

function openTicket() {
  const d = S.detail;
  const subject = h("input", { class: "field", maxlength: "255", "aria-label": tr("ticket.subject") });
  subject.value = tr("ticket.default_subject", { name: displayName(d.contact), handle: handle(d.contact) });
  modal({
    title: tr("ticket.create_modal"),
    body: [h("p", { text: tr("ticket.create_intro") }), subject],
    actions: [{ label: tr("common.cancel") }, { label: tr("ticket.create"), kind: "primary", icon: "ticket", run: async () => {
      try {
        const t = await api("POST", `/api/chats/${d.id}/ticket`, { subject: subject.value.trim() || undefined });
        toast(tr("ticket.created", { id: t.id }), "ok");
      } catch (e) { toast(e.message, "error"); return false; }
    } }],
  });
}

async function pushLead(lead) {
  if (!lead) return;
  try {
    const r = await api("POST", `/api/chats/${S.chatId}/leads/${lead.id}/push`);
    toast(r.job.state === "sent" ? tr("lead.already_in_crm", { adapter: r.job.adapter }) : tr("lead.queued_for_crm", { adapter: r.job.adapter }), "ok");
    scheduleRefresh();
  } catch (e) { toast(e.message, "error"); }
}

// ---------------------------------------------------------------- admin
async function renderAdmin(page) {
  const pane = $("#admin-pane");
  const pages = { numbers: adminNumbers, team: adminTeam, timeouts: adminTimeouts, templates: adminTemplates, credits: adminCredits,
    canned: adminCanned, tags: adminTags, reports: adminReports, surveys: adminSurveys /* reports.js */, trainer: adminTrainer /* trainer.js */,
    articles: () => window.adminArticles() /* articles.js, an ES module */ };
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
        : h("span", { class: "muted", text: tr("form.none_yet") }));
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
    actions: [{ label: tr("common.cancel") }, { label: submitLabel || tr("common.save"), kind: "primary", icon: "check", run: async () => {
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
    title: tr("waba.add_title"), intro: tr("waba.add_intro"),
    fields: [{ name: "id", label: tr("waba.id"), placeholder: tr("waba.id_placeholder") }, { name: "name", label: tr("common.name"), maxlength: 200 }],
    submitLabel: tr("waba.add"),
    submit: async (v) => { await api("POST", "/api/admin/wabas", v); toast(tr("waba.added", { name: v.name }), "ok"); reload(); },
  });
  const addNumber = () => formModal({
    title: tr("number.add_title"), intro: tr("number.add_intro"),
    fields: [
      { name: "waba_id", label: tr("number.business_account"), type: "select", options: wabas.map((w) => ({ value: w.id, label: `${w.name} (${w.id})` })) },
      { name: "id", label: tr("number.phone_number_id"), placeholder: tr("number.phone_number_id_placeholder") },
      { name: "display", label: tr("number.number"), placeholder: "+15550001234", help: tr("number.number_help") },
      { name: "department_id", label: tr("common.department"), type: "select", options: deptOptions(depts), help: tr("number.department_help") },
      { name: "access_token", label: tr("number.token_optional"), type: "password", help: tr("number.token_help") }],
    submitLabel: tr("number.add"),
    submit: async (v) => { const n = await api("POST", "/api/admin/numbers", { ...v, department_id: Number(v.department_id) }); toast(tr("number.added", { number: n.display }), "ok"); reload(); },
  });
  const reconnect = (n) => formModal({
    title: tr("number.reconnect_title", { number: n.display || n.id }),
    intro: tr("number.reconnect_intro"),
    fields: [{ name: "access_token", label: tr("number.new_token_optional"), type: "password", help: tr("number.new_token_help") }],
    submitLabel: tr("number.reconnect"),
    submit: async (v) => { await api("POST", `/api/admin/numbers/${n.id}/reconnect`, v); toast(tr("number.connected", { number: n.display || n.id }), "ok"); reload(); },
  });
  const moveNumber = async (n, select) => {
    try {
      await api("PUT", `/api/admin/numbers/${n.id}`, { department_id: Number(select.value) });
      toast(tr("number.routes_to", { number: n.display || n.id, department: select.selectedOptions[0].textContent }), "ok");
    } catch (e) { toast(e.message, "error"); select.value = String(n.department_id); }
  };
  const deptSelect = (n) => {
    const sel = h("select", { class: "field small", "aria-label": tr("number.department_of", { number: n.display || n.id }) },
      deptOptions(depts).map((o) => h("option", { value: o.value, text: o.label })));
    sel.value = String(n.department_id);
    sel.addEventListener("change", () => moveNumber(n, sel));
    return sel;
  };
  return [h("div", { class: "page-head" }, h("div", {}, h("h1", { text: tr("number.page_title") }),
      h("p", { class: "lead-in", text: tr("number.page_intro") })),
    h("div", { class: "head-actions" }, h("button", { class: "btn", type: "button", id: "add-waba", onclick: addWaba }, tr("waba.add")),
      h("button", { class: "btn primary", type: "button", id: "add-number", onclick: addNumber, disabled: !wabas.length || !depts.length }, tr("number.add")))),
    h("div", { class: "card" }, h("table", { class: "grid" }, th(tr("number.number"), tr("number.business_account"), tr("common.department"), tr("side.state"), tr("number.token"), ""),
      h("tbody", {}, rows.length ? rows.map((n) => h("tr", { dataset: { number: n.id } },
        h("td", { class: "nowrap" }, h("b", { text: n.display || n.id }), h("div", { class: "muted small", text: tr("number.id_line", { id: n.id }) })),
        h("td", { class: "nowrap" }, h("div", { text: n.waba.name }), h("div", { class: "muted small", text: tr("number.waba_line", { id: n.waba.id }) })),
        h("td", {}, deptSelect(n)),
        h("td", {}, h("span", { class: `state-pill ${n.state}` }, h("span", { class: `dot ${n.state}` }), tr("number_state." + n.state)),
          n.reason ? h("div", { class: "reason", text: n.reason }) : null,
          n.state_changed_at ? h("div", { class: "muted", text: tr("number.since", { when: stamp(n.state_changed_at) }) }) : null,
          n.quality || n.messaging_limit ? h("div", { class: "muted small quality", text: tr("number.meta_quality", { quality: n.quality ? n.quality.toLowerCase() : tr("number.quality_not_reported"), limit: n.messaging_limit ? tr("number.limit", { limit: n.messaging_limit }) : "" }) }) : null,
          n.warning ? h("div", { class: "notice warn number-warning" }, icon("alert"), h("span", { text: n.warning })) : null),
        h("td", { class: "nowrap", text: n.own_token ? tr("number.own_token") : tr("number.default_token") }),
        h("td", { class: "nowrap" }, h("button", { class: `btn small${n.state === "disconnected" ? " primary" : ""}`, type: "button",
          onclick: () => reconnect(n) }, n.state === "disconnected" ? tr("number.reconnect") : tr("number.replace_token")))))
        : h("tr", {}, h("td", { colspan: "6", class: "muted", text: tr("number.none") }))))),
    h("div", { class: "card" }, h("h2", { text: tr("waba.title") }), h("table", { class: "grid" }, th(tr("waba.col"), tr("waba.col_id"), tr("waba.col_numbers"), tr("waba.col_pricing")),
      h("tbody", {}, wabas.length ? wabas.map((w) => h("tr", { "data-waba-id": w.id }, h("td", {}, h("b", { text: w.name })), h("td", { class: "muted", text: w.id }),
        h("td", { class: "num", text: String(w.numbers) }), h("td", {}, pricingSelect(w))))
        : h("tr", {}, h("td", { colspan: "4", class: "muted", text: tr("waba.none") })))))];
}

// How Meta bills the account (its Business Manager's billing page says): by 24-hour
// conversation, as the source document, or per delivered message (desk.billing.per_message).
function pricingSelect(w) {
  const select = h("select", { class: "field small", "aria-label": tr("waba.col_pricing") },
    ["conversation", "pmp"].map((m) => h("option", { value: m, text: tr(`waba.pricing.${m}`) })));
  select.value = w.pricing_model || "conversation";
  select.addEventListener("change", async () => {
    try {
      await api("PUT", `/api/admin/wabas/${encodeURIComponent(w.id)}/pricing`, { pricing_model: select.value });
      toast(tr("waba.pricing_saved", { name: w.name }), "ok");
    } catch (e) { toast(e.message, "error"); select.value = w.pricing_model || "conversation"; }
  });
  return select;
}

async function adminTeam() {
  const t = await api("GET", "/api/admin/team");
  const reload = () => renderAdmin("team");
  // A department's name, and its name for the customers of each of the brand's languages
  // (the bot's buttons and handoff messages; empty: the name).
  const deptFields = (d = {}) => [{ name: "name", label: tr("common.name"), value: d.name, maxlength: 200 },
    ...(t.languages || []).map((lang) => ({ name: `name_${lang}`, label: tr("dept.name_in", { language: tr("language." + lang) }),
      value: (d.names || {})[lang] || "", maxlength: 200, required: false, help: tr("dept.name_in_help", { language: tr("language." + lang) }) }))];
  const deptBody = (v) => ({ name: v.name, names: Object.fromEntries((t.languages || []).map((lang) => [lang, (v[`name_${lang}`] || "").trim()])) });
  const addDept = () => formModal({
    title: tr("dept.new"), fields: deptFields(), submitLabel: tr("dept.add"),
    submit: async (v) => { await api("POST", "/api/admin/departments", deptBody(v)); toast(tr("dept.added", { name: v.name.trim() }), "ok"); reload(); },
  });
  const renameDept = (d) => formModal({
    title: tr("dept.rename_title", { name: d.name }), fields: deptFields(d),
    submit: async (v) => { await api("PUT", `/api/admin/departments/${d.id}`, deptBody(v)); reload(); },
  });
  const otherNames = (d) => Object.values(d.names || {}).filter((n) => n && n !== d.name).join(" · ");
  const common = (o = {}) => [
    { name: "name", label: tr("common.name"), value: o.name, maxlength: 200 },
    { name: "role", label: tr("team.role"), type: "select", value: o.role || "operator", options: [{ value: "operator", label: tr("team.role_operator") }, { value: "admin", label: tr("team.role_admin") }, { value: "manager", label: tr("team.role_manager") }, { value: "trainer", label: tr("team.role_trainer") }] },
    { name: "department_ids", label: tr("team.departments"), type: "checks", value: (o.departments || []).map((d) => d.id), options: deptOptions(t.departments) },
    { name: "max_chats", label: tr("team.max_chats"), type: "number", value: o.max_chats || 5, min: 1, max: 100 },
  ];
  const addOperator = () => formModal({
    title: tr("team.new_operator"),
    fields: [{ name: "email", label: tr("common.email"), type: "email", maxlength: 320 }, ...common(),
      { name: "password", label: tr("common.password"), type: "password", help: tr("team.password_help") }],
    submitLabel: tr("team.create_operator"),
    submit: async (v) => { const o = await api("POST", "/api/admin/operators", v); toast(tr("team.can_sign_in", { name: o.name }), "ok"); reload(); },
  });
  const editOperator = (o) => formModal({
    title: tr("team.edit_title", { name: o.name }), intro: o.email, fields: common(o),
    submit: async (v) => { await api("PUT", `/api/admin/operators/${o.id}`, v); toast(tr("team.saved", { name: v.name }), "ok"); reload(); },
  });
  const setPassword = (o) => formModal({
    title: tr("team.new_password_for", { name: o.name }), fields: [{ name: "password", label: tr("common.password"), type: "password", help: tr("team.password_min") }],
    submitLabel: tr("team.set_password"),
    submit: async (v) => { await api("PUT", `/api/admin/operators/${o.id}/password`, v); toast(tr("team.password_changed"), "ok"); },
  });
  const setActive = (o, active) => modal({
    title: active ? tr("team.reactivate_q", { name: o.name }) : tr("team.deactivate_q", { name: o.name }),
    body: h("p", { text: active ? tr("team.reactivate_intro")
      : tr("team.deactivate_intro") }),
    actions: [{ label: tr("common.cancel") }, { label: active ? tr("team.reactivate") : tr("team.deactivate"), kind: active ? "primary" : "danger solid", run: async () => {
      try { await api("PUT", `/api/admin/operators/${o.id}`, { active }); toast(tr(active ? "team.reactivated_toast" : "team.deactivated_toast", { name: o.name }), "ok"); reload(); } catch (e) { toast(e.message, "error"); return false; }
    } }],
  });
  return [h("div", { class: "page-head" }, h("div", {}, h("h1", { text: tr("team.page_title") }),
      h("p", { class: "lead-in", text: tr("team.page_intro") })),
    h("div", { class: "head-actions" }, h("button", { class: "btn", type: "button", id: "add-department", onclick: addDept }, tr("dept.add")),
      h("button", { class: "btn primary", type: "button", id: "add-operator", onclick: addOperator }, tr("team.add_operator")))),
    h("div", { class: "card" }, h("h2", { text: tr("team.departments") }), h("table", { class: "grid" }, th(tr("common.department"), tr("team.members"), tr("hours.column"), ""),
      h("tbody", {}, t.departments.length ? t.departments.map((d) => h("tr", { "data-department": d.id }, h("td", {}, h("b", { text: d.name }), otherNames(d) ? h("div", { class: "muted", text: otherNames(d) }) : null),
        h("td", { class: "members", text: d.members.join(", ") || tr("team.nobody_yet") }),
        h("td", { class: "hours-cell" }, window.hoursBadge ? window.hoursBadge(d.status) : null),  // hours.js
        h("td", { class: "nowrap right" },
          h("button", { class: "btn small ghost", type: "button", "data-act": "hours", onclick: () => window.departmentHoursEditor(d, reload) }, tr("hours.edit")),
          h("button", { class: "btn small ghost", type: "button", onclick: () => renameDept(d) }, tr("dept.rename")))))
        : h("tr", {}, h("td", { colspan: "4", class: "muted", text: tr("dept.none") }))))),
    h("div", { class: "card" }, h("h2", { text: tr("team.operators") }), h("table", { class: "grid" }, th(tr("common.name"), tr("team.role"), tr("team.departments"), tr("common.status"), tr("team.open_chats"), tr("team.account"), ""),
      h("tbody", {}, t.operators.map((o) => h("tr", { class: o.active ? "" : "inactive", dataset: { operator: o.email } },
        h("td", {}, h("b", { text: o.name + (o.id === S.me.id ? tr("common.you_suffix") : "") }), h("div", { class: "muted", text: o.email })),
        h("td", { text: tr("role." + o.role) }), h("td", { text: o.departments.map((d) => d.name).join(", ") || "—" }),
        h("td", {}, h("span", { class: "state-pill" }, h("span", { class: `dot ${o.status}` }), tr("status." + o.status))),
        h("td", { class: "num", text: `${o.load} / ${o.max_chats}` }),
        h("td", { text: o.active ? tr("team.active") : tr("team.deactivated") }),
        h("td", { class: "nowrap right" },
          h("button", { class: "btn small ghost", type: "button", onclick: () => editOperator(o) }, tr("common.edit")),
          h("button", { class: "btn small ghost", type: "button", onclick: () => setPassword(o) }, tr("common.password")),
          o.id === S.me.id ? null : h("button", { class: `btn small ${o.active ? "danger" : ""}`, type: "button", onclick: () => setActive(o, !o.active) },
            o.active ? tr("team.deactivate") : tr("team.reactivate")))))))),
  ];
}

// A duration typed in minutes, hours or days; the desk stores minutes (desk.services.settings).
const UNITS = [["minutes", 1], ["hours", 60], ["days", 1440]];
function durationField(id, minutes, label) {
  const input = h("input", { class: "field num", type: "number", id, min: "1", step: "1", "aria-label": label });
  const unit = h("select", { class: "field unit-select", id: `${id}-unit`, "aria-label": tr("duration.unit_label", { label }) },
    UNITS.map(([name]) => h("option", { value: name, text: tr("unit." + name) })));
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
  const [s, langs] = await Promise.all([api("GET", "/api/admin/settings"), api("GET", "/api/admin/languages")]);
  const unattended = durationField("unattended", s.unattended_close_minutes, tr("timeouts.unattended"));
  const idle = durationField("idle", s.idle_close_minutes, tr("timeouts.idle"));
  const bot = h("input", { type: "checkbox", id: "bot-enabled" });
  bot.checked = s.bot_enabled;
  const result = h("div", { hidden: true });
  const save = h("button", { class: "btn primary", type: "button", id: "save-timeouts" }, icon("check"), tr("common.save"));
  save.addEventListener("click", async () => {
    result.hidden = true;
    try {
      if (Number.isNaN(unattended.value()) || Number.isNaN(idle.value())) throw new Error(tr("timeouts.whole_numbers"));
      await api("PUT", "/api/admin/settings", { unattended_close_minutes: unattended.value(), idle_close_minutes: idle.value(), bot_enabled: bot.checked });
      result.className = "form-ok"; result.textContent = tr("common.saved");
    } catch (e) { result.className = "form-error"; result.textContent = e.message; }
    result.hidden = false;
  });
  const row = (label, help, control) => h("div", { class: "form-row" }, h("label", {}, h("b", { text: label }), h("span", { text: help })), control);
  return [h("h1", { text: tr("timeouts.title") }),
    h("p", { class: "lead-in", text: tr("timeouts.intro") }),
    h("div", { class: "card" }, h("div", { class: "body" },
      row(tr("timeouts.unattended"), tr("timeouts.unattended_help"), unattended.el),
      row(tr("timeouts.idle"), tr("timeouts.idle_help"), idle.el),
      row(tr("timeouts.bot_first"), tr("timeouts.bot_first_help"), h("label", {}, bot, " ", tr("common.enabled"))),
      h("div", {}, save), result)),
    languagesCard(langs),
    botRulesCard(s.bot_idle_rules),
    noticesCard(s),
  ];
}

// What the customer is told when an operator joins, the chat is transferred, or an operator
// closes it (desk.services.customer_notices); an empty text sends nothing.
// Customer texts per language: {"en": "...", "ja": "..."}; a plain string is the default language's
// text (older rows). Fields: the default language's first (id `<base>`), the others `<base>-<lang>`.
function perLanguage(value, lang, defaultLanguage) {
  if (value && typeof value === "object") return value[lang] ?? "";
  return lang === defaultLanguage ? (value ?? "") : "";
}
function brandLanguages() {
  const langs = (S.me && S.me.languages) || ["en"];
  const def = (S.me && S.me.default_language) || langs[0];
  return [def, ...langs.filter((l) => l !== def)];
}
function languageFields(base, value, { rows = "2", maxlength = "1024", placeholder = "", fallback = null } = {}) {
  const [def] = brandLanguages();
  return brandLanguages().map((lang) => {
    const input = h("textarea", { class: "field notice-text", id: lang === def ? base : `${base}-${lang}`, rows, maxlength, placeholder,
      lang, "aria-label": tr("language." + lang), dataset: { language: lang } });
    input.value = perLanguage(value, lang, def) || (fallback ? perLanguage(fallback, lang, def) : "");
    return { lang, input };
  });
}
// What is saved: a plain string while only the default language has a text, else the mapping.
function languageValue(fields) {
  const [def] = brandLanguages();
  const others = fields.filter((f) => f.lang !== def && f.input.value.trim());
  if (!others.length) return (fields.find((f) => f.lang === def) || fields[0]).input.value;
  return Object.fromEntries(fields.map((f) => [f.lang, f.input.value]));
}
function languageRows(fields, extra = () => null) {
  return h("div", { class: "lang-fields" }, fields.map((f) => h("div", { class: "lang-field" },
    brandLanguages().length > 1 ? h("span", { class: "lang-badge", text: f.lang.toUpperCase(), title: tr("language." + f.lang) }) : null,
    f.input, extra(f))));
}

function noticesCard(s) {
  const LABELS = { operator_joined: tr("notice.operator_joined"), transferred: tr("notice.transferred"), closed_by_operator: tr("notice.closed_by_operator") };
  const fields = Object.keys(s.notice_defaults).map((key) => {
    const inputs = languageFields(`notice-${key}`, s.notices[key], { placeholder: tr("notice.not_sent") });
    const [def] = brandLanguages();
    const reset = (f) => h("button", { class: "btn small", type: "button", onclick: () => { f.input.value = perLanguage(s.notice_defaults[key], f.lang, def); } }, tr("notice.default"));
    return { key, inputs, row: h("div", { class: "form-row" }, h("label", { for: `notice-${key}` }, h("b", { text: LABELS[key] || key })),
      h("div", { class: "notice-edit" }, languageRows(inputs, reset))) };
  });
  const result = h("div", { hidden: true, id: "notices-result", role: "alert" });
  const save = h("button", { class: "btn primary", type: "button", id: "save-notices" }, icon("check"), tr("common.save"));
  save.addEventListener("click", async () => {
    result.hidden = true;
    try {
      await api("PUT", "/api/admin/settings", { notices: Object.fromEntries(fields.map((f) => [f.key, languageValue(f.inputs)])) });
      result.className = "form-ok"; result.textContent = tr("common.saved");
    } catch (e) { result.className = "form-error"; result.textContent = e.message; }
    result.hidden = false;
  });
  return h("div", { class: "card", id: "notices-card" }, h("h2", { text: tr("notice.card_title") }), h("div", { class: "body" },
    h("p", { class: "muted", text: tr("notice.card_help", { variables: s.notice_variables.map((v) => `{${v}}`).join(", ") }) }),
    brandLanguages().length > 1 ? h("p", { class: "muted", text: tr("notice.per_language_help") }) : null,
    ...fields.map((f) => f.row), h("div", {}, save), result));
}

// Which languages the brand speaks, the default one (a customer who has not written text yet),
// and the time zone of the console's and the reports' dates (PUT /api/admin/languages).
function languagesCard(cfg) {
  const checks = cfg.all.map((lang) => h("label", { class: "check" },
    h("input", { type: "checkbox", value: lang, id: `brand-language-${lang}`, checked: cfg.languages.includes(lang) }), " ", tr("language." + lang)));
  const def = h("select", { class: "field", id: "default-language", "aria-label": tr("languages.default") },
    cfg.all.map((lang) => h("option", { value: lang, text: tr("language." + lang) })));
  def.value = cfg.default_language;
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const zone = h("input", { class: "field", id: "time-zone", list: "time-zones", autocomplete: "off", placeholder: "Asia/Tokyo", "aria-label": tr("languages.time_zone") });
  zone.value = cfg.time_zone || "UTC";
  const zoneList = h("datalist", { id: "time-zones" }, ["UTC", ...zones].map((z) => h("option", { value: z })));
  const result = h("div", { hidden: true, id: "languages-result", role: "alert" });
  const save = h("button", { class: "btn primary", type: "button", id: "save-languages" }, icon("check"), tr("common.save"));
  save.addEventListener("click", async () => {
    result.hidden = true;
    try {
      await api("PUT", "/api/admin/languages", { languages: checks.map((l) => l.querySelector("input")).filter((i) => i.checked).map((i) => i.value),
        default_language: def.value, time_zone: zone.value.trim() || null });
      result.className = "form-ok"; result.textContent = tr("languages.saved");
      setTimeout(() => location.reload(), 600);  // the dates and the per-language fields follow
    } catch (e) { result.className = "form-error"; result.textContent = e.message; }
    result.hidden = false;
  });
  const row = (label, help, ...control) => h("div", { class: "form-row" }, h("label", {}, h("b", { text: label }), h("span", { text: help })), h("div", {}, ...control));
  return h("div", { class: "card", id: "languages-card" }, h("h2", { text: tr("languages.title") }), h("div", { class: "body" },
    row(tr("languages.languages"), tr("languages.languages_help"), h("div", { class: "csat-kinds" }, checks)),
    row(tr("languages.default"), tr("languages.default_help"), def),
    row(tr("languages.time_zone"), tr("languages.time_zone_help"), zone, zoneList),
    h("div", {}, save), result));
}

function botRulesCard(initial) {
  // Steps run one after the other while the bot has the chat and the user is silent; only the last may close.
  const rules = initial.map((r) => ({ ...r }));
  const body = h("tbody", {});
  const result = h("div", { hidden: true });
  const render = () => {
    body.replaceChildren(...rules.map((r, i) => {
      const after = h("input", { class: "field num", type: "number", min: "1", "aria-label": tr("rules.minutes_label", { n: i + 1 }) });
      after.value = r.after_minutes;
      after.addEventListener("input", () => { r.after_minutes = Number(after.value); });
      const action = h("select", { class: "field", "aria-label": tr("rules.action_label", { n: i + 1 }) },
        h("option", { value: "nudge", text: tr("rules.nudge") }), h("option", { value: "close", text: tr("rules.close") }));
      action.value = r.action;
      action.addEventListener("change", () => { r.action = action.value; });
      // One message per brand language (a plain string while only the default language has one).
      const texts = languageFields(`rule-${i + 1}-text`, r.text);
      for (const f of texts) {
        f.input.setAttribute("aria-label", `${tr("rules.message_label", { n: i + 1 })} (${tr("language." + f.lang)})`);
        f.input.addEventListener("input", () => { r.text = languageValue(texts); });
      }
      const text = languageRows(texts);
      return h("tr", { class: "rule" }, h("td", { class: "nowrap" }, after, h("span", { class: "unit", text: tr("unit.min") })), h("td", {}, action), h("td", { class: "wide" }, text),
        h("td", {}, h("button", { class: "btn small ghost", type: "button", title: tr("rules.remove_title"), onclick: () => { rules.splice(i, 1); render(); } }, tr("common.remove"))));
    }));
    if (!rules.length) body.append(h("tr", {}, h("td", { colspan: "4", class: "muted", text: tr("rules.none") })));
  };
  render();
  const add = h("button", { class: "btn", type: "button", id: "add-rule", onclick: () => { rules.push({ after_minutes: 10, action: "nudge", text: "" }); render(); } }, tr("rules.add"));
  const save = h("button", { class: "btn primary", type: "button", id: "save-rules" }, icon("check"), tr("rules.save"));
  save.addEventListener("click", async () => {
    result.hidden = true;
    try {
      await api("PUT", "/api/admin/settings", { bot_idle_rules: rules });
      result.className = "form-ok"; result.textContent = tr("common.saved");
    } catch (e) { result.className = "form-error"; result.textContent = e.message; }
    result.hidden = false;
  });
  return h("div", { class: "card" }, h("h2", { text: tr("rules.title") }),
    h("div", { class: "body" }, h("p", { class: "muted", text: tr("rules.intro") })),
    h("table", { class: "grid" }, th(tr("rules.after"), tr("rules.action"), tr("common.message"), ""), body),
    h("div", { class: "body" }, h("div", { class: "inline-form" }, add, save), result));
}

async function adminTemplates() {
  const [rows, wabas] = await Promise.all([api("GET", "/api/admin/templates"), api("GET", "/api/admin/wabas")]);
  const reload = () => renderAdmin("templates");
  const register = () => formModal({
    title: tr("template.register_title"),
    intro: tr("template.register_intro"),
    fields: [
      { name: "waba_id", label: tr("number.business_account"), type: "select", options: wabas.map((w) => ({ value: w.id, label: `${w.name} (${w.id})` })) },
      { name: "name", label: tr("common.name"), placeholder: "order_update", help: tr("template.name_help") },
      { name: "language", label: tr("common.language"), value: "en", placeholder: "en, en_US, ja" },
      { name: "category", label: tr("template.category"), type: "select", value: "UTILITY", options: ["UTILITY", "MARKETING", "AUTHENTICATION"].map((c) => ({ value: c, label: c })) },
      { name: "header", label: tr("template.header_optional"), maxlength: 60 },
      { name: "body", label: tr("template.body"), type: "textarea", maxlength: 1024, help: tr("template.body_help") },
      { name: "footer", label: tr("template.footer_optional"), maxlength: 60 }],
    submitLabel: tr("template.submit"),
    submit: async (v) => { const t = await api("POST", "/api/admin/templates", v); toast(tr("template.submitted", { name: t.name, status: tr("template.status." + t.status.toLowerCase()) }), "ok"); reload(); },
  });
  const sync = async (ev) => {
    const btn = ev.currentTarget;
    btn.disabled = true;
    try {
      const r = await api("POST", "/api/admin/templates/sync", {});
      const n = (k) => r.wabas.reduce((a, w) => a + (Array.isArray(w[k]) ? w[k].length : w[k]), 0);
      toast(tr("template.synced", { created: n("created"), updated: n("updated"), deleted: n("deleted") }), "ok");
      reload();
    } catch (e) { toast(e.message, "error"); btn.disabled = false; }
  };
  const waba = Object.fromEntries(wabas.map((w) => [w.id, w.name]));
  // Paused or rated RED by Meta: the admins are warned here (and by alerts.js when it happens).
  const attention = rows.filter((t) => t.attention);
  const warn = attention.length ? h("div", { class: "notice warn banner", id: "template-attention", role: "alert" }, icon("alert"),
    h("div", {}, attention.map((t) => h("div", { dataset: { template: t.name }, text: tr("template.attention." + t.attention, { name: t.name, language: t.language }) })))) : null;
  const quality = (t) => h("span", { class: `tpl-quality ${(t.quality || "none").toLowerCase()}`, text: tr("template.quality." + (t.quality || "none").toLowerCase()) });
  return [h("div", { class: "page-head" }, h("div", {}, h("h1", { text: tr("template.page_title") }),
      h("p", { class: "lead-in", text: tr("template.page_intro") })),
    h("div", { class: "head-actions" }, h("button", { class: "btn ghost", type: "button", id: "sync-templates", onclick: sync, disabled: !wabas.length }, tr("template.sync")),
      h("button", { class: "btn primary", type: "button", id: "add-template", onclick: register, disabled: !wabas.length }, tr("template.register")))),
    warn,
    h("div", { class: "card" }, h("table", { class: "grid" }, th(tr("template.col"), tr("number.business_account"), tr("template.category"), tr("common.text"), tr("common.status"), tr("template.quality"), ""),
      h("tbody", {}, rows.length ? rows.map((t) => h("tr", { dataset: { template: t.name } },
        h("td", { class: "nowrap" }, h("b", { text: t.name }), h("div", { class: "muted small", text: t.language })),
        h("td", { class: "nowrap", text: waba[t.waba_id] || t.waba_id }),
        h("td", { text: tr("template.category." + t.category.toLowerCase()) }),
        h("td", { class: "tpl-text" }, t.header ? h("b", { text: t.header }) : null, h("div", { text: t.body }), t.footer ? h("small", { class: "muted", text: t.footer }) : null),
        h("td", {}, h("span", { class: `tpl-status ${t.status.toLowerCase()}`, text: tr("template.status." + t.status.toLowerCase()) }),
          t.status_reason ? h("div", { class: "reason", text: t.status_reason }) : null),
        h("td", { class: "nowrap" }, quality(t)),
        h("td", { class: "nowrap right muted small", text: t.meta_template_id ? tr("template.meta_id", { id: t.meta_template_id }) : tr("template.not_at_meta") })))
        : h("tr", {}, h("td", { colspan: "7", class: "muted", text: tr("template.none") })))))];
}

async function adminCredits() {
  const c = await api("GET", "/api/admin/credits");
  const reload = () => renderAdmin("credits");
  const price = Number(c.price.credit_usd), feeRate = Number(c.price.fee_rate);
  const money = (n) => n.toFixed(2);
  const buy = () => {
    const count = h("input", { class: "field num", type: "number", id: "buy-credits", min: "1", value: "10", "aria-label": tr("credits.title") });
    const total = h("div", { class: "buy-total", id: "buy-total" });
    const show = () => {
      const n = Math.max(0, Math.floor(Number(count.value) || 0));
      const value = n * price, fee = Math.round(value * feeRate * 100) / 100;
      total.textContent = tr("credits.total", { count: n, value: money(value), fee_rate: Math.round(feeRate * 100), fee: money(fee), total: money(value + fee) });
    };
    count.addEventListener("input", show);
    show();
    modal({
      title: tr("credits.buy"),
      body: [h("p", { text: tr("credits.buy_intro", { price: c.price.credit_usd, fee: Math.round(feeRate * 100) }) }), count, total],
      actions: [{ label: tr("common.cancel") }, { label: tr("credits.buy_button"), kind: "primary", icon: "coins", run: async () => {
        try {
          const p = await api("POST", "/api/admin/credits", { credits: Math.floor(Number(count.value)) });
          toast(tr("credits.bought", { count: p.credits, total: p.total_usd, balance: p.balance_usd }), "ok");
          reload();
        } catch (e) { toast(e.message, "error"); return false; }
      } }],
    });
  };
  const peak = Math.max(1, ...c.usage.map((u) => u.total));
  const chart = h("div", { class: "chart", role: "img", "aria-label": tr("credits.chart_label") },
    c.usage.map((u) => {
      const col = h("div", { class: "col", title: tr("credits.chart_col", { month: u.month, total: u.total, free: u.free, paid: u.paid, cost: u.cost_usd }) });
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
  const warnAt = h("input", { class: "field num", type: "number", id: "warning-usd", min: "0", step: "0.01", "aria-label": tr("credits.warning_level_label") });
  warnAt.value = c.low_balance_threshold_usd;
  const warnResult = h("div", { id: "warning-result", hidden: true, role: "alert" });
  const saveWarning = async () => {
    warnResult.hidden = true;
    try {
      const r = await api("PUT", "/api/admin/credits/warning", { usd: warnAt.value.trim() });
      toast(tr("credits.warned_below", { usd: r.low_balance_threshold_usd }), "ok");
      reload();
    } catch (e) { warnResult.className = "form-error"; warnResult.textContent = e.message; warnResult.hidden = false; }
  };
  warnAt.addEventListener("keydown", (e) => { if (e.key === "Enter") saveWarning(); });
  // The monthly billing report, as CSV (UTC calendar months, like the free tier).
  const reportMonth = h("input", { class: "field", type: "month", id: "report-month", max: c.month, required: true, "aria-label": tr("credits.month") });
  reportMonth.value = c.month;
  const download = h("a", { class: "btn", id: "download-report", download: "" }, icon("take"), tr("credits.download_csv"));
  const reportResult = h("div", { class: "form-error", id: "report-result", hidden: true, role: "alert" });
  const setHref = () => {
    const ok = /^\d{4}-(0[1-9]|1[0-2])$/.test(reportMonth.value);
    reportResult.hidden = ok;
    reportResult.textContent = ok ? "" : tr("credits.pick_month");
    download.toggleAttribute("aria-disabled", !ok);
    if (ok) download.setAttribute("href", `/api/admin/credits/report?month=${encodeURIComponent(reportMonth.value)}`);
    else download.removeAttribute("href");
  };
  reportMonth.addEventListener("input", setHref);
  setHref();
  const row = (label, help, ...control) => h("div", { class: "form-row" }, h("label", {}, h("b", { text: label }), h("span", { text: help })),
    h("div", { class: "inline-form" }, ...control));
  const KIND = { purchase: tr("ledger.purchase"), conversation: tr("ledger.conversation"), reconciliation: tr("ledger.reconciliation"), refund: tr("ledger.refund"), adjustment: tr("ledger.adjustment") };
  return [h("div", { class: "page-head" }, h("div", {}, h("h1", { text: tr("credits.title") }),
      h("p", { class: "lead-in", text: tr("credits.page_intro") })),
    h("div", { class: "head-actions" }, h("button", { class: "btn primary", type: "button", id: "buy", onclick: buy }, icon("coins"), tr("credits.buy")))),
    c.warning ? h("div", { class: "notice warn banner", id: "credit-warning" }, icon("alert"), h("span", { text: c.warning[0].toUpperCase() + c.warning.slice(1) })) : null,
    h("div", { class: "stats" },
      h("div", { class: "card stat" }, h("small", { text: tr("credits.balance") }), h("b", { id: "balance", text: `USD ${c.balance_usd}` }), h("span", { class: "muted", text: tr("credits.count", { count: Number(c.credits) }) })),
      ...c.free_tier.map((t) => h("div", { class: "card stat" }, h("small", { text: tr("credits.free_of_month", { month: c.month, waba: t.waba.name }) }),
        h("b", { text: tr("credits.free_left", { n: Math.max(0, t.limit - t.used).toLocaleString("en") }) }), h("span", { class: "muted", text: tr("credits.free_used", { used: t.used.toLocaleString("en"), limit: t.limit.toLocaleString("en") }) })))),
    h("div", { class: "card" }, h("h2", { text: tr("credits.warning_and_reports") }), h("div", { class: "body" },
      row(tr("credits.low_balance"), tr("credits.low_balance_help"),
        h("div", {}, h("span", { class: "unit pre", text: "USD" }), warnAt),
        h("button", { class: "btn primary", type: "button", id: "save-warning", onclick: saveWarning }, icon("check"), tr("common.save")), warnResult),
      row(tr("credits.monthly_report"), tr("credits.monthly_report_help"),
        reportMonth, download, reportResult))),
    h("div", { class: "card" }, h("h2", { text: tr("credits.monthly_usage") }), h("div", { class: "body" }, chart,
      h("div", { class: "legend" }, h("span", { class: "key free" }), tr("credits.free"), h("span", { class: "key paid" }), tr("credits.paid"), h("span", { class: "key other" }), tr("credits.not_billable")))),
    h("div", { class: "card" }, h("h2", { text: tr("ledger.title") }), h("table", { class: "grid" }, th(tr("ledger.when"), tr("ledger.entry"), tr("ledger.amount"), tr("ledger.fee"), tr("ledger.by"), tr("ledger.note")),
      h("tbody", {}, c.ledger.length ? c.ledger.map((e) => h("tr", {},
        h("td", { class: "nowrap", text: stamp(e.at) }),
        h("td", { text: KIND[e.kind] || e.kind, title: e.kind }, e.credits ? h("span", { class: "muted", text: " · " + tr("credits.count", { count: Math.abs(e.credits) === 1 ? 1 : e.credits }) }) : null),
        h("td", { class: `num ${e.amount_usd.startsWith("-") ? "neg" : "pos"}`, text: tr("money.usd", { amount: e.amount_usd }) }),
        h("td", { class: "num", text: Number(e.fee_usd) ? tr("money.usd", { amount: e.fee_usd }) : "—" }),
        h("td", { text: e.by || "—" }), h("td", { class: "muted", text: e.note || "" })))
        : h("tr", {}, h("td", { colspan: "6", class: "muted", text: tr("ledger.none") })))))];
}

async function adminCanned() {
  const rows = await api("GET", "/api/admin/canned");
  const shortcut = h("input", { class: "field", placeholder: tr("canned.shortcut_placeholder"), maxlength: "40", "aria-label": tr("canned.shortcut") });
  const title = h("input", { class: "field", placeholder: tr("canned.title_field"), maxlength: "200", "aria-label": tr("canned.title_field") });
  const text = h("textarea", { class: "field", placeholder: tr("canned.text_field"), "aria-label": tr("common.text") });
  // The brand's languages (GET /api/me); a canned response is offered first in chats of its language.
  const languages = S.me.languages || ["en"];
  const languageOptions = languages.map((l) => ({ value: l, label: tr("language." + l) }));
  const language = h("select", { class: "field", id: "canned-language", "aria-label": tr("common.language") },
    languageOptions.map((o) => h("option", { value: o.value, text: o.label })));
  language.value = S.me.default_language || languages[0];
  const result = h("div", { hidden: true });
  const add = h("button", { class: "btn primary", type: "button", id: "add-canned" }, tr("canned.add"));
  add.addEventListener("click", async () => {
    try {
      await api("POST", "/api/admin/canned", { shortcut: shortcut.value, title: title.value, text: text.value, language: language.value });
      S.canned = await api("GET", "/api/canned");
      renderAdmin("canned");
    } catch (e) { result.className = "form-error"; result.textContent = e.message; result.hidden = false; }
  });
  return [h("h1", { text: tr("canned.title") }),
    h("p", { class: "lead-in", text: tr("canned.page_intro") }),
    h("div", { class: "card" }, h("table", { class: "grid" }, th(tr("canned.shortcut"), tr("common.language"), tr("canned.title_field"), tr("common.text"), ""),
      h("tbody", {}, rows.length ? rows.map((c) => h("tr", { dataset: { canned: `${c.shortcut}:${c.language}` } }, h("td", {}, h("code", { text: "/" + c.shortcut })),
        h("td", { class: "nowrap", text: tr("language." + c.language) }), h("td", { text: c.title }),
        h("td", { class: "muted", text: c.text }),
        h("td", { class: "nowrap right" }, h("button", { class: "btn ghost small", type: "button", onclick: () => formModal({
          title: tr("canned.edit_title", { shortcut: c.shortcut }),
          fields: [{ name: "shortcut", label: tr("canned.shortcut"), value: c.shortcut, maxlength: 40 }, { name: "title", label: tr("canned.title_field"), value: c.title, maxlength: 200 },
            { name: "language", label: tr("common.language"), type: "select", value: c.language, options: languageOptions },
            { name: "text", label: tr("canned.text_field"), type: "textarea", value: c.text, maxlength: 4096 }],
          submit: async (v) => { await api("PUT", `/api/admin/canned/${c.id}`, v); S.canned = await api("GET", "/api/canned"); renderAdmin("canned"); },
        }) }, tr("common.edit")), " ", h("button", { class: "btn danger small", type: "button", onclick: async () => {
          try { await api("DELETE", `/api/admin/canned/${c.id}`); S.canned = await api("GET", "/api/canned"); renderAdmin("canned"); } catch (e) { toast(e.message, "error"); }
        } }, tr("common.delete")))))
        : h("tr", {}, h("td", { colspan: "5", class: "muted", text: tr("canned.none") }))))),
    h("div", { class: "card" }, h("h2", { text: tr("canned.new") }), h("div", { class: "body" },
      h("div", { class: "inline-form" }, shortcut, languages.length > 1 ? language : null, title, text, add), result))];
}

async function adminTags() {
  const rows = await api("GET", "/api/admin/tags");
  const name = h("input", { class: "field", placeholder: tr("tag.new"), maxlength: "60", "aria-label": tr("tag.name") });
  const result = h("div", { hidden: true });
  const add = async () => {
    try {
      await api("POST", "/api/admin/tags", { name: name.value });
      S.tags = await api("GET", "/api/tags");
      renderAdmin("tags");
    } catch (e) { result.className = "form-error"; result.textContent = e.message; result.hidden = false; }
  };
  name.addEventListener("keydown", (e) => { if (e.key === "Enter") add(); });
  return [h("h1", { text: tr("tag.page_title") }),
    h("p", { class: "lead-in", text: tr("tag.page_intro") }),
    h("div", { class: "card" }, h("div", { class: "body" },
      h("div", { class: "chips" }, rows.length ? rows.map((t) => h("span", { class: "tag" }, t.name, h("small", { text: tr("tag.chats", { count: t.chats }) }),
        h("button", { type: "button", title: tr("tag.delete", { name: t.name }), onclick: async () => {
          try { await api("DELETE", `/api/admin/tags/${t.id}`); S.tags = await api("GET", "/api/tags"); renderAdmin("tags"); } catch (e) { toast(e.message, "error"); }
        } }, "×"))) : h("span", { class: "muted", text: tr("tag.none") })))),
    h("div", { class: "card" }, h("h2", { text: tr("tag.new") }), h("div", { class: "body" }, h("div", { class: "inline-form" }, name,
      h("button", { class: "btn primary", type: "button", onclick: add }, tr("tag.add"))), result))];
}

// ---------------------------------------------------------------- bot chats: take over, hand back (issue 11)
async function takeoverMove(move) {
  const d = S.detail;
  if (!d) return;
  try {
    await api("POST", `/api/chats/${d.id}/${move}`);
    toast(move === "take-over" ? tr("takeover.taken") : tr("takeover.handed_back"), "ok");
    if (move === "take-over") location.hash = `#/inbox/mine/${d.id}`;
    else { await loadCounts(true); await loadList(true); await loadChat(false, true); }
  } catch (e) { toast(e.message, "error"); }
}

// ---------------------------------------------------------------- records: tickets, leads, contacts (issue 11)
const RECORDS = {
  tickets: { title: tr("records.tickets"), intro: tr("records.tickets_intro") },
  leads: { title: tr("records.leads"), intro: tr("records.leads_intro") },
  contacts: { title: tr("records.contacts"), intro: tr("records.contacts_intro") },
};
const OWNER_OPTIONS = [["any", tr("records.owner_any")], ["me", tr("records.owner_me")], ["unassigned", tr("records.owner_unassigned")]];
const recordFilters = { tickets: { state: "open", owner: "any", department: "", q: "" },
  leads: { task: "all", owner: "any", crm: "all", department: "", q: "" }, contacts: { state: "all", owner: "any", q: "" } };
let directoryCache = null;

function selectEl(id, label, options, value, onchange) {
  const el = h("select", { class: "field", id, "aria-label": label }, options.map(([v, t]) => h("option", { value: v, text: t })));
  el.value = value;
  el.addEventListener("change", () => onchange(el.value));
  return el;
}
const ownerName = (o) => (o ? (o.id === S.me.id ? tr("records.you") : o.name) : null);

async function renderRecords(page, openId) {
  const pane = $("#admin-pane");
  const f = recordFilters[page];
  if (!directoryCache) { try { directoryCache = await api("GET", "/api/directory"); } catch (_) { directoryCache = { departments: [] }; } }
  const depts = [["", tr("records.all_departments")], ...directoryCache.departments.map((d) => [String(d.id), d.name])];
  const tbody = h("tbody");
  const sub = h("span", { class: "muted records-count" });
  const reload = async (background = false) => {
    if (S.view !== "records" || S.recordsPage !== page) return;
    const params = new URLSearchParams(Object.entries(f).filter(([, v]) => v !== ""));
    let data;
    try { data = await api("GET", `/api/${page}?${params}`, undefined, { background }); } catch (e) { if (!background) toast(e.message, "error"); return; }
    syncClock(data.now);
    const rows = data[page];
    sub.textContent = tr("records.shown", { n: rows.length });
    tbody.replaceChildren(...(rows.length ? rows.map((r) => RECORD_ROWS[page](r, reload)) : [h("tr", {}, h("td", { colspan: "7", class: "muted", text: f.q ? tr("records.no_search_match") : tr("records.no_filter_match") }))]));
  };
  S.recordsReload = reload;
  const search = h("input", { class: "field", type: "search", id: "records-search", placeholder: page === "contacts" ? tr("records.search_contacts") : tr("common.search"), value: f.q, autocomplete: "off" });
  let timer = null;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => { f.q = search.value.trim(); reload(); }, 200); });
  const set = (key) => (v) => { f[key] = v; reload(); };
  const filters = [search];
  if (page === "tickets") filters.push(selectEl("f-state", tr("side.state"), [["open", tr("records.open")], ["closed", tr("records.closed")], ["all", tr("records.all")]], f.state, set("state")));
  if (page === "leads") {
    filters.push(selectEl("f-task", tr("records.task"), [["all", tr("records.all_leads")], ["open", tr("records.open_tasks")], ["done", tr("records.done")], ["none", tr("records.not_a_task")]], f.task, set("task")));
    filters.push(selectEl("f-crm", tr("records.crm"), [["all", tr("records.any_crm")], ["pending", tr("records.crm_pending")], ["pushed", tr("records.crm_pushed")], ["failed", tr("records.crm_failed")]], f.crm, set("crm")));
  }
  if (page === "contacts") filters.push(selectEl("f-state", tr("records.chat"), [["all", tr("records.any_chat")], ["live", tr("records.live_chat")], ["bot", tr("list.bot")], ["queued", tr("list.waiting")], ["open", tr("records.with_operator")], ["none", tr("records.no_live_chat")]], f.state, set("state")));
  filters.push(selectEl("f-owner", tr("records.owner"), OWNER_OPTIONS, f.owner, set("owner")));
  if (page !== "contacts") filters.push(selectEl("f-department", tr("common.department"), depts, f.department, set("department")));
  const heads = { tickets: ["#", tr("ticket.subject"), tr("records.customer"), tr("side.state"), tr("records.queue_owner"), tr("records.created"), ""],
    leads: [tr("common.lead"), tr("lead.interest"), tr("records.contact"), tr("records.task"), tr("records.queue_owner"), tr("records.crm"), ""],
    contacts: [tr("records.contact"), tr("records.latest_chat"), tr("records.owner"), tr("records.chats"), tr("records.leads"), tr("records.tickets"), ""] }[page];
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
      h("td", {}, h("span", { class: `badge ${t.state === "open" ? (t.operator ? "open" : "waiting") : "closed"}`, text: tr(t.state === "open" ? (t.operator ? "state.open" : "state.queued") : "state.closed") }),
        t.replies ? h("div", { class: "muted", text: tr("ticket.replies", { count: t.replies }) }) : null),
      h("td", {}, owner ? h("span", { text: owner }) : h("span", { class: "muted", text: tr("records.queued_for", { department: t.department ? t.department.name : tr("common.no_department") }) })),
      h("td", { class: "muted", dataset: { rel: t.created_at }, text: relative(t.created_at) }),
      h("td", { class: "right" }, h("button", { class: "btn small", type: "button", text: tr("records.open_button") })));
  },
  leads(l, reload) {
    const task = l.task;
    const act = async (move) => { try { await api("POST", `/api/leads/${l.id}/${move}`); toast(move === "take" ? tr("lead.yours") : move === "done" ? tr("lead.marked_done") : tr("lead.reopened"), "ok"); await reload(); loadCounts(true); } catch (e) { toast(e.message, "error"); } };
    const buttons = [];
    if (task && task.state === "open" && !l.operator) buttons.push(h("button", { class: "btn primary small", type: "button", dataset: { act: "take" }, onclick: () => act("take") }, tr("records.take")));
    if (task && task.state === "open" && l.operator) buttons.push(h("button", { class: "btn small", type: "button", dataset: { act: "done" }, onclick: () => act("done") }, icon("check"), tr("records.done")));
    if (task && task.state === "done") buttons.push(h("button", { class: "btn ghost small", type: "button", dataset: { act: "reopen" }, onclick: () => act("reopen") }, tr("records.reopen")));
    if (l.chat_id) buttons.push(h("a", { class: "btn ghost small", href: `#/inbox/closed/${l.chat_id}` }, tr("records.chat")));
    return h("tr", { dataset: { leadId: l.id } },
      h("td", {}, h("b", { text: l.name || tr("records.no_name") }), h("div", { class: "muted", text: [l.email, l.company].filter(Boolean).join(" · ") })),
      h("td", { text: l.interest || "" }),
      h("td", {}, h("div", { text: displayName(l.contact) }), h("div", { class: "muted", text: handle(l.contact) })),
      h("td", {}, task ? h("span", { class: `badge ${task.state === "done" ? "closed" : l.operator ? "open" : "waiting"}`, text: tr(task.state === "done" ? "records.done_badge" : l.operator ? "state.open" : "state.queued") }) : h("span", { class: "muted", text: "—" })),
      h("td", {}, l.operator ? h("span", { text: ownerName(l.operator) }) : task ? h("span", { class: "muted", text: tr("records.queued_for", { department: l.department ? l.department.name : tr("common.no_department") }) }) : h("span", { class: "muted", text: "—" })),
      h("td", {}, h("span", { class: "muted", text: tr("lead.crm_state", { state: tr("crm." + l.crm_state) }) })),
      h("td", { class: "right nowrap" }, ...buttons));
  },
  contacts(c) {
    const lc = c.last_chat;
    const listOf = { bot: "bot", waiting: "waiting", unattended: "unattended", open: "mine", closed: "closed" }[lc.state] || "closed";
    return h("tr", { dataset: { contactId: c.id } },
      h("td", {}, h("b", { text: displayName(c) }), h("div", { class: "muted", text: handle(c) })),
      h("td", {}, h("span", { class: `badge ${lc.state}`, text: tr("state." + lc.state) }), " ", h("span", { class: "muted", dataset: { rel: lc.last_activity_at }, text: relative(lc.last_activity_at) }),
        lc.number ? h("div", { class: "muted", text: tr("conv.to_number", { number: lc.number }) }) : null),
      h("td", { text: lc.operator || (lc.state === "bot" ? tr("sender.bot") : lc.department ? tr("records.queued_for", { department: lc.department }) : "—") }),
      h("td", { class: "num", text: String(c.chats) }), h("td", { class: "num", text: String(c.leads) }), h("td", { class: "num", text: String(c.tickets) }),
      h("td", { class: "right" }, h("a", { class: "btn ghost small", href: `#/inbox/${listOf}/${lc.id}` }, tr("records.open_chat"))));
  },
};

// The ticket whose detail is being fetched: a row's click and the route it sets both
// open it, and the second must not replace the first (and what was typed in it).
let ticketOpening = null;

async function openTicketDetail(ticketId, reload) {
  const id = String(ticketId);
  const shown = document.querySelector("#modal-root .modal[data-ticket-id]");
  if (ticketOpening === id || (shown && shown.dataset.ticketId === id)) return;
  ticketOpening = id;
  let t;
  try { t = await api("GET", `/api/tickets/${ticketId}`); } catch (e) { toast(e.message, "error"); return; } finally { ticketOpening = null; }
  const error = h("div", { class: "form-error", hidden: true, role: "alert" });
  const fail = (e) => { error.textContent = e.message; error.hidden = false; };
  const after = async (fresh, text) => { if (text) toast(text, "ok"); await reload(true); loadCounts(true); m.close(); openTicketDetail(fresh.id || ticketId, reload); };
  const cp = t.composer;
  const composer = [];
  if (cp.enabled && cp.window_open) {
    const text = h("textarea", { class: "field", id: "ticket-reply", rows: "3", placeholder: tr("ticket.reply_placeholder"), "aria-label": tr("ticket.answer") });
    composer.push(text, h("div", { class: "tpl-actions" }, h("span", { class: "muted", text: tr("ticket.window_open") }),
      h("button", { class: "btn primary", type: "button", id: "ticket-send", onclick: async () => {
        try { const r = await api("POST", `/api/tickets/${t.id}/reply`, { text: text.value }); await after(r.ticket, tr("ticket.answer_queued")); } catch (e) { fail(e); }
      } }, icon("send"), tr("ticket.send_whatsapp"))));
  } else if (cp.enabled) {
    const list = cp.templates;
    const select = h("select", { class: "field", id: "ticket-template", "aria-label": tr("template.approved_one") }, list.map((x, i) => h("option", { value: String(i), text: `${x.name} (${x.language})` })));
    const params = h("div", { class: "tpl-params" });
    const build = () => { const x = list[Number(select.value)]; params.replaceChildren(...Array.from({ length: x.params.body }, (_, i) => h("input", { class: "field", placeholder: tr("template.body_placeholder", { n: i + 1 }), "aria-label": tr("template.body_param_label", { n: i + 1 }) }))); };
    select.addEventListener("change", build);
    build();
    composer.push(h("p", { class: "muted", text: tr("ticket.window_closed") }),
      h("div", { class: "tpl-row" }, select, params),
      h("div", { class: "tpl-actions" }, h("button", { class: "btn primary", type: "button", id: "ticket-send-template", onclick: async () => {
        const x = list[Number(select.value)];
        try {
          const r = await api("POST", `/api/tickets/${t.id}/reply`, { template: { name: x.name, language: x.language, body_params: $$("input", params).map((i) => i.value) } });
          await after(r.ticket, tr("ticket.template_queued", { name: x.name }));
        } catch (e) { fail(e); }
      } }, icon("send"), tr("template.send"))));
  } else composer.push(h("div", { class: "notice", id: "ticket-reason", text: cp.reason }));
  const replies = t.replies.map((r) => h("div", { class: "ticket-reply" }, h("div", { class: "muted" }, `${r.operator || tr("sender.operator")} · ${stamp(r.at)} · ${tr("ticket.reply_kind." + r.kind)}`,
    r.status ? ` · ${r.status}` : ""), h("div", { text: r.body }),
    r.failure ? h("div", { class: "err failure" }, h("div", { class: "what", text: r.failure.text }), h("div", { class: "next", text: r.failure.next_step }),
      h("small", { class: "detail", text: tr("failure.whatsapp_said", { error: r.error }) }))
      : r.error ? h("div", { class: "err", text: r.error }) : null));
  const actions = [{ label: tr("ticket.close_window") }];
  const move = (what, text) => ({ label: { take: tr("records.take"), close: tr("ticket.close"), reopen: tr("records.reopen") }[what], kind: what === "take" ? "primary" : what === "close" ? "danger" : "", run: async () => {
    try { const r = await api("POST", `/api/tickets/${t.id}/${what}`); await after(r, text); } catch (e) { fail(e); }
    return false;
  } });
  if (t.actions.take) actions.push(move("take", tr("ticket.yours")));
  if (t.actions.close) actions.push(move("close", tr("ticket.closed")));
  if (t.actions.reopen) actions.push(move("reopen", tr("ticket.reopened")));
  const meta = [`#${t.id}`, t.state === "open" ? (t.operator ? tr("ticket.with", { name: ownerName(t.operator) }) : tr("ticket.queued_for", { department: t.department ? t.department.name : tr("common.no_department") })) : tr("ticket.closed_by", { name: t.closed_by }),
    `${t.contact.name || ""} ${handle(t.contact)}`.trim(), tr("ticket.created_by", { when: stamp(t.created_at), who: t.source === "message" ? tr("ticket.by_customer") : t.created_by })];
  const m = modal({ title: t.subject, body: [
    h("div", { class: "muted ticket-meta", text: meta.join(" · ") }),
    t.message ? h("blockquote", { class: "ticket-message", id: "ticket-message", text: t.message }) : null,
    h("details", { class: "ticket-transcript", open: !t.message }, h("summary", { text: tr("ticket.transcript") }), h("pre", { id: "ticket-transcript", text: t.description })),
    t.origin_chat ? h("p", {}, h("a", { href: `#/inbox/${t.origin_chat.state === "open" ? "mine" : t.origin_chat.state === "bot" ? "bot" : "closed"}/${t.origin_chat.id}`, onclick: () => m.close() }, tr("ticket.open_origin"))) : null,
    replies.length ? h("div", { class: "ticket-replies" }, h("b", { text: tr("ticket.answers") }), ...replies) : null,
    t.state === "open" ? h("div", { class: "ticket-composer" }, ...composer) : null, error] , actions });
  m.box.classList.add("wide");
  m.box.dataset.ticketId = id;
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
