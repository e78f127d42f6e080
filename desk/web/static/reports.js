/* tsunagi console · Reports (admins): the manager's figures from GET /api/reports.
   A page area of its own; it uses console.js's helpers (h, api, icon, th, $) at call time. */
"use strict";

const REPORT_FILTERS = { start: "", end: "", number: "", department: "" };
const REASON_LABELS = { asked: "Asked for a person", human_only: "Human-only topic", misunderstood: "Misunderstood",
  lead: "Sales lead", bot_down: "Bot unavailable", takeover: "Taken over by an operator", transfer: "Transferred" };

function reportDuration(seconds) {
  if (seconds == null) return "—";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

const reportUsd = (micros) => `USD ${(micros / 1e6).toFixed(2)}`;

function reportQuery(extra = {}) {
  const q = new URLSearchParams({ tz: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC" });
  for (const [k, v] of Object.entries({ ...REPORT_FILTERS, ...extra })) if (v) q.set(k, v);
  return q.toString();
}

// Bars: one column per item, the height relative to the largest (aria-label says what it is).
function reportBars(items, label, { id, every = 1 } = {}) {
  const peak = Math.max(1, ...items.map((i) => i.value));
  return h("div", { class: "chart bars", id, role: "img", "aria-label": label }, items.map((i, n) => {
    const bar = h("div", { class: "bar" });
    const seg = h("div", { class: "seg paid" });
    seg.style.height = `${(i.value / peak) * 100}%`;
    bar.append(seg);
    return h("div", { class: "col", title: `${i.label}: ${i.value} chat${i.value === 1 ? "" : "s"}` },
      h("span", { class: "n", text: i.value ? String(i.value) : "" }), bar,
      h("span", { class: "m", text: n % every === 0 ? i.short : "" }));
  }));
}

function reportStat(id, title, value, sub) {
  return h("div", { class: "card stat", id }, h("small", { text: title }), h("b", { text: value }),
    sub ? h("span", { class: "muted", text: sub }) : null);
}

async function adminReports() {
  const report = await api("GET", `/api/reports?${reportQuery()}`);
  const { numbers, departments } = report.filters;
  REPORT_FILTERS.start = report.range.start;
  REPORT_FILTERS.end = report.range.end;
  const t = report.totals;
  const reload = () => renderAdmin("reports");
  const dateInput = (key, label) => {
    const el = h("input", { class: "field", type: "date", id: `report-${key}`, "aria-label": label });
    el.value = REPORT_FILTERS[key];
    el.addEventListener("change", () => { REPORT_FILTERS[key] = el.value; reload(); });
    return el;
  };
  const select = (key, label, options) => {
    const el = h("select", { class: "field", id: `report-${key}`, "aria-label": label },
      h("option", { value: "", text: `All ${label.toLowerCase()}s` }),
      options.map((o) => h("option", { value: o.value, text: o.label })));
    el.value = REPORT_FILTERS[key];
    el.addEventListener("change", () => { REPORT_FILTERS[key] = el.value; reload(); });
    return el;
  };
  const download = h("a", { class: "btn", id: "report-csv", download: "", href: `/api/reports?${reportQuery({ format: "csv" })}` },
    icon("take"), "Download CSV");
  const pct = t.containment == null ? "—" : `${Math.round(t.containment * 100)}%`;
  const perDay = report.per_day.map((d) => ({ value: d.chats, label: d.date, short: d.date.slice(5) }));
  const perHour = report.per_hour.map((d) => ({ value: d.chats, label: `${d.hour}:00`, short: String(d.hour) }));
  const reasons = Object.entries(report.handoff_reasons);
  const rated = (c) => (c && c.answers ? `${Math.round(c.csat * 100)}% (${c.answers})` : "—");
  const timesTable = (rows, who, id) => h("table", { class: "grid", id }, th(who, "Chats", "First response (median)", "p90", "Resolution (median)", "p90", "Satisfaction"),
    h("tbody", {}, rows.length ? rows.map((r) => h("tr", {}, h("td", { text: r.name }),
      h("td", { class: "num", text: String(Math.max(r.first_response.count, r.resolution.count)) }),
      h("td", { class: "num", text: reportDuration(r.first_response.median_s) }), h("td", { class: "num", text: reportDuration(r.first_response.p90_s) }),
      h("td", { class: "num", text: reportDuration(r.resolution.median_s) }), h("td", { class: "num", text: reportDuration(r.resolution.p90_s) }),
      h("td", { class: "num", text: rated(r.csat) })))
      : h("tr", {}, h("td", { colspan: "7", class: "muted", text: "No chats with a person in this range." }))));
  return [
    h("div", { class: "page-head" }, h("div", {}, h("h1", { text: "Reports" }),
      h("p", { class: "lead-in", text: `Chats opened ${report.range.start} to ${report.range.end} (${report.range.tz}), from the desk's own records.` })),
      h("div", { class: "head-actions" }, download)),
    h("div", { class: "filters report-filters" }, dateInput("start", "From"), dateInput("end", "To"),
      select("number", "Number", numbers.map((n) => ({ value: n.id, label: n.display || n.id }))),
      select("department", "Department", departments.map((d) => ({ value: String(d.id), label: d.name })))),
    h("div", { class: "stats" },
      reportStat("stat-chats", "Chats", t.chats.toLocaleString("en"), `${t.handed_off} handed to a person`),
      reportStat("stat-containment", "Bot containment", pct, `${t.contained} of ${t.closed} closed chats without a person`),
      reportStat("stat-first-response", "First response", reportDuration(t.first_response.median_s), `median · p90 ${reportDuration(t.first_response.p90_s)}`),
      reportStat("stat-resolution", "Resolution", reportDuration(t.resolution.median_s), `median · p90 ${reportDuration(t.resolution.p90_s)}`),
      reportStat("stat-unattended", "Unattended", String(t.unattended), `${t.auto_closed} closed by a timer or the bot`),
      reportStat("stat-leads", "Leads", String(t.leads), `${t.leads_pushed} pushed to the CRM`),
      reportStat("stat-conversations", "Conversations", String(t.conversations), `${reportUsd(t.credits_spent_micros)} of credits spent`),
      reportStat("stat-csat", "Satisfaction", report.satisfaction.csat == null ? "—" : `${Math.round(report.satisfaction.csat * 100)}%`,
        `${report.satisfaction.answers} rating${report.satisfaction.answers === 1 ? "" : "s"} of ${report.satisfaction.sent} surveys · ${report.satisfaction.poor} poor`)),
    h("div", { class: "card" }, h("h2", { text: "Chats per day" }), h("div", { class: "body" },
      reportBars(perDay, "Chats per day", { id: "chart-days", every: Math.ceil(perDay.length / 15) }))),
    h("div", { class: "card" }, h("h2", { text: "Chats by hour of the day" }), h("div", { class: "body" },
      reportBars(perHour, "Chats by hour of the day", { id: "chart-hours", every: 2 }))),
    h("div", { class: "card" }, h("h2", { text: "Handoffs by reason" }), h("table", { class: "grid", id: "report-reasons" }, th("Reason", "Chats", "Share"),
      h("tbody", {}, reasons.length ? reasons.map(([reason, n]) => h("tr", {}, h("td", { text: REASON_LABELS[reason] || reason }),
        h("td", { class: "num", text: String(n) }), h("td", { class: "num", text: `${Math.round((n / t.handed_off) * 100)}%` })))
        : h("tr", {}, h("td", { colspan: "3", class: "muted", text: "No handoffs in this range." }))))),
    h("div", { class: "card" }, h("h2", { text: "By department" }), timesTable(report.departments, "Department", "report-departments")),
    h("div", { class: "card" }, h("h2", { text: "By operator" }), timesTable(report.operators, "Operator", "report-operators")),
  ];
}

// ---------------------------------------------------------------- satisfaction survey settings
const CLOSE_KIND_LABELS = { operator: "Closed by an operator", unattended: "Closed unattended (nobody joined)",
  idle: "Closed idle (nobody wrote)", bot: "Closed by the bot's idle rule" };

async function adminSurveys() {
  const [c, templates] = await Promise.all([api("GET", "/api/admin/csat"), api("GET", "/api/admin/templates")]);
  const enabled = h("input", { type: "checkbox", id: "csat-enabled", checked: c.enabled });
  const delay = h("input", { class: "field num", type: "number", id: "csat-delay", min: "0", max: String(c.max_delay_minutes) });
  delay.value = c.delay_minutes;
  const question = h("textarea", { class: "field", id: "csat-question", rows: "2", maxlength: "1024" });
  question.value = c.question;
  const skips = c.close_kinds.map((k) => h("label", { class: "check" },
    h("input", { type: "checkbox", value: k, checked: !c.skip.includes(k), "data-kind": k }), " ", CLOSE_KIND_LABELS[k] || k));
  const approved = (templates.templates || templates).filter((t) => t.status === "APPROVED");
  const template = h("select", { class: "field", id: "csat-template" }, h("option", { value: "", text: "None: no survey outside the 24-hour window" }),
    approved.map((t) => h("option", { value: `${t.name}:${t.language}`, text: `${t.name} (${t.language}, ${t.category})` })));
  template.value = c.template || "";
  const result = h("div", { hidden: true, id: "csat-result", role: "alert" });
  const save = h("button", { class: "btn primary", type: "button", id: "save-csat" }, icon("check"), "Save");
  save.addEventListener("click", async () => {
    result.hidden = true;
    try {
      await api("PUT", "/api/admin/csat", { enabled: enabled.checked, delay_minutes: Number(delay.value), question: question.value,
        skip: skips.map((l) => l.querySelector("input")).filter((i) => !i.checked).map((i) => i.value), template: template.value || null });
      result.className = "form-ok"; result.textContent = "Saved.";
    } catch (e) { result.className = "form-error"; result.textContent = e.message; }
    result.hidden = false;
  });
  const row = (label, help, ...control) => h("div", { class: "form-row" }, h("label", {}, h("b", { text: label }), h("span", { text: help })), h("div", {}, ...control));
  return [h("h1", { text: "Satisfaction survey" }),
    h("p", { class: "lead-in", text: "After a chat is closed, the customer is asked to rate it with three WhatsApp buttons (Great, Okay, Poor) and may add a comment. Ratings show on the chat and in Reports." }),
    h("div", { class: "card" }, h("div", { class: "body" },
      row("Ask for a rating", "Only chats closed after you turn this on are surveyed.", h("label", {}, enabled, " enabled")),
      row("Send it", "Minutes after the close (0: at once; at most a day).", delay, h("span", { class: "unit", text: "minutes after the close" })),
      row("Question", "What the customer reads above the buttons.", question),
      row("Survey after", "Untick the closes that should get no survey.", h("div", { class: "csat-kinds" }, skips)),
      row("Outside the 24-hour window", "WhatsApp allows only an approved template then (a utility template with three quick-reply buttons). Without one, no survey is sent.", template),
      h("div", {}, save), result))];
}
