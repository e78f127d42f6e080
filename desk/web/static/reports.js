/* tsunagi console · Reports (admins): the manager's figures from GET /api/reports.
   A page area of its own; it uses console.js's helpers (h, api, icon, th, $) at call time. */
"use strict";

const REPORT_FILTERS = { start: "", end: "", number: "", department: "" };
const REASON_LABELS = { asked: tr("reason.asked"), human_only: tr("reason.human_only"), misunderstood: tr("reason.misunderstood"),
  lead: tr("reason.lead"), bot_down: tr("reason.bot_down"), takeover: tr("reason.takeover"), transfer: tr("reason.transfer") };

function reportDuration(seconds) {
  if (seconds == null) return "—";
  if (seconds < 60) return tr("dur.sec", { n: Math.round(seconds) });
  if (seconds < 3600) return tr("dur.min", { n: Math.round(seconds / 60) });
  if (seconds < 86400) return tr("dur.hours", { n: (seconds / 3600).toFixed(1) });
  return tr("dur.days", { n: (seconds / 86400).toFixed(1) });
}

const reportUsd = (micros) => tr("money.usd", { amount: (micros / 1e6).toFixed(2) });

function reportQuery(extra = {}) {
  const q = new URLSearchParams({ tz: I18N.timeZone || "UTC" });  // the brand's time zone (i18n.js)
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
    return h("div", { class: "col", title: `${i.label}: ${tr("reports.chats_count", { count: i.value })}` },
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
      h("option", { value: "", text: tr("reports.all_of." + key) }),
      options.map((o) => h("option", { value: o.value, text: o.label })));
    el.value = REPORT_FILTERS[key];
    el.addEventListener("change", () => { REPORT_FILTERS[key] = el.value; reload(); });
    return el;
  };
  const download = h("a", { class: "btn", id: "report-csv", download: "", href: `/api/reports?${reportQuery({ format: "csv" })}` },
    icon("take"), tr("credits.download_csv"));
  const pct = t.containment == null ? "—" : `${Math.round(t.containment * 100)}%`;
  const perDay = report.per_day.map((d) => ({ value: d.chats, label: d.date, short: d.date.slice(5) }));
  const perHour = report.per_hour.map((d) => ({ value: d.chats, label: `${d.hour}:00`, short: String(d.hour) }));
  const reasons = Object.entries(report.handoff_reasons);
  const rated = (c) => (c && c.answers ? `${Math.round(c.csat * 100)}% (${c.answers})` : "—");
  const timesTable = (rows, who, id) => h("table", { class: "grid", id }, th(who, tr("records.chats"), tr("reports.first_response_median"), "p90", tr("reports.resolution_median"), "p90", tr("reports.satisfaction")),
    h("tbody", {}, rows.length ? rows.map((r) => h("tr", {}, h("td", { text: r.name }),
      h("td", { class: "num", text: String(Math.max(r.first_response.count, r.resolution.count)) }),
      h("td", { class: "num", text: reportDuration(r.first_response.median_s) }), h("td", { class: "num", text: reportDuration(r.first_response.p90_s) }),
      h("td", { class: "num", text: reportDuration(r.resolution.median_s) }), h("td", { class: "num", text: reportDuration(r.resolution.p90_s) }),
      h("td", { class: "num", text: rated(r.csat) })))
      : h("tr", {}, h("td", { colspan: "7", class: "muted", text: tr("reports.no_person_chats") }))));
  return [
    h("div", { class: "page-head" }, h("div", {}, h("h1", { text: tr("reports.title") }),
      h("p", { class: "lead-in", text: tr("reports.intro", { start: report.range.start, end: report.range.end, tz: report.range.tz }) })),
      h("div", { class: "head-actions" }, download)),
    h("div", { class: "filters report-filters" }, dateInput("start", tr("reports.from")), dateInput("end", tr("reports.to")),
      select("number", tr("number.number"), numbers.map((n) => ({ value: n.id, label: n.display || n.id }))),
      select("department", tr("common.department"), departments.map((d) => ({ value: String(d.id), label: d.name })))),
    h("div", { class: "stats" },
      reportStat("stat-chats", tr("records.chats"), t.chats.toLocaleString("en"), tr("reports.handed_to_person", { n: t.handed_off })),
      reportStat("stat-containment", tr("reports.containment"), pct, tr("reports.contained", { contained: t.contained, closed: t.closed })),
      reportStat("stat-first-response", tr("reports.first_response"), reportDuration(t.first_response.median_s), tr("reports.median_p90", { p90: reportDuration(t.first_response.p90_s) })),
      reportStat("stat-resolution", tr("reports.resolution"), reportDuration(t.resolution.median_s), tr("reports.median_p90", { p90: reportDuration(t.resolution.p90_s) })),
      reportStat("stat-unattended", tr("list.unattended"), String(t.unattended), tr("reports.auto_closed", { n: t.auto_closed })),
      reportStat("stat-leads", tr("records.leads"), String(t.leads), tr("reports.leads_pushed", { n: t.leads_pushed })),
      reportStat("stat-conversations", tr("reports.conversations"), String(t.conversations), tr("reports.credits_spent", { usd: reportUsd(t.credits_spent_micros) })),
      reportStat("stat-csat", tr("reports.satisfaction"), report.satisfaction.csat == null ? "—" : `${Math.round(report.satisfaction.csat * 100)}%`,
        tr("reports.ratings", { count: report.satisfaction.answers, sent: report.satisfaction.sent, poor: report.satisfaction.poor }))),
    h("div", { class: "card" }, h("h2", { text: tr("reports.per_day") }), h("div", { class: "body" },
      reportBars(perDay, tr("reports.per_day"), { id: "chart-days", every: Math.ceil(perDay.length / 15) }))),
    h("div", { class: "card" }, h("h2", { text: tr("reports.per_hour") }), h("div", { class: "body" },
      reportBars(perHour, tr("reports.per_hour"), { id: "chart-hours", every: 2 }))),
    h("div", { class: "card" }, h("h2", { text: tr("reports.by_reason") }), h("table", { class: "grid", id: "report-reasons" }, th(tr("common.reason"), tr("records.chats"), tr("reports.share")),
      h("tbody", {}, reasons.length ? reasons.map(([reason, n]) => h("tr", {}, h("td", { text: REASON_LABELS[reason] || reason }),
        h("td", { class: "num", text: String(n) }), h("td", { class: "num", text: `${Math.round((n / t.handed_off) * 100)}%` })))
        : h("tr", {}, h("td", { colspan: "3", class: "muted", text: tr("reports.no_handoffs") }))))),
    h("div", { class: "card" }, h("h2", { text: tr("reports.by_department") }), timesTable(report.departments, tr("common.department"), "report-departments")),
    h("div", { class: "card" }, h("h2", { text: tr("reports.by_operator") }), timesTable(report.operators, tr("common.operator"), "report-operators")),
  ];
}

// ---------------------------------------------------------------- satisfaction survey settings
const CLOSE_KIND_LABELS = { operator: tr("close_kind.operator"), unattended: tr("close_kind.unattended"),
  idle: tr("close_kind.idle"), bot: tr("close_kind.bot") };

async function adminSurveys() {
  const [c, templates] = await Promise.all([api("GET", "/api/admin/csat"), api("GET", "/api/admin/templates")]);
  const enabled = h("input", { type: "checkbox", id: "csat-enabled", checked: c.enabled });
  const delay = h("input", { class: "field num", type: "number", id: "csat-delay", min: "0", max: String(c.max_delay_minutes) });
  delay.value = c.delay_minutes;
  // One question per brand language (console.js languageFields): #csat-question is the default language's.
  const question = languageFields("csat-question", c.question, { maxlength: "1024" });
  const skips = c.close_kinds.map((k) => h("label", { class: "check" },
    h("input", { type: "checkbox", value: k, checked: !c.skip.includes(k), "data-kind": k }), " ", CLOSE_KIND_LABELS[k] || k));
  const approved = (templates.templates || templates).filter((t) => t.status === "APPROVED");
  const template = h("select", { class: "field", id: "csat-template" }, h("option", { value: "", text: tr("csat.no_template") }),
    approved.map((t) => h("option", { value: `${t.name}:${t.language}`, text: `${t.name} (${t.language}, ${t.category})` })));
  template.value = c.template || "";
  const result = h("div", { hidden: true, id: "csat-result", role: "alert" });
  const save = h("button", { class: "btn primary", type: "button", id: "save-csat" }, icon("check"), tr("common.save"));
  save.addEventListener("click", async () => {
    result.hidden = true;
    try {
      await api("PUT", "/api/admin/csat", { enabled: enabled.checked, delay_minutes: Number(delay.value), question: languageValue(question),
        skip: skips.map((l) => l.querySelector("input")).filter((i) => !i.checked).map((i) => i.value), template: template.value || null });
      result.className = "form-ok"; result.textContent = tr("common.saved");
    } catch (e) { result.className = "form-error"; result.textContent = e.message; }
    result.hidden = false;
  });
  const row = (label, help, ...control) => h("div", { class: "form-row" }, h("label", {}, h("b", { text: label }), h("span", { text: help })), h("div", {}, ...control));
  return [h("h1", { text: tr("csat.title") }),
    h("p", { class: "lead-in", text: tr("csat.intro") }),
    h("div", { class: "card" }, h("div", { class: "body" },
      row(tr("csat.ask"), tr("csat.ask_help"), h("label", {}, enabled, " ", tr("common.enabled"))),
      row(tr("csat.send_it"), tr("csat.send_it_help"), delay, h("span", { class: "unit", text: tr("csat.minutes_after") })),
      row(tr("csat.question"), tr("csat.question_help"), languageRows(question)),
      row(tr("csat.survey_after"), tr("csat.survey_after_help"), h("div", { class: "csat-kinds" }, skips)),
      row(tr("csat.outside_window"), tr("csat.outside_window_help"), template),
      h("div", {}, save), result))];
}
