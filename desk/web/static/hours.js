/* tsunagi console · Business hours of a department (admins): the weekly open intervals per weekday
   (overnight allowed), holidays (a date and an optional label), the brand's time zone, and the
   timers' "count only open hours" (GET/PUT /api/admin/departments/{id}/hours; the rules are
   desk.services.business_hours.parse_schedule's). A refused save shows the problem next to its
   field (the API's `field`: "week.mon.0.to", "holidays.2.date") and changes nothing.
   Also the "Open now" / "Closed until …" badge of a department (its `status`, computed by the
   desk with its own clock), shown on the team page and in the transfer picker.
   A browser-native ES module: console.js's helpers (h, api, modal, toast, tr, stamp) are the
   page's globals; it registers window.departmentHoursEditor and window.hoursBadge. */

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

// A department's state now: "Open now", "Closed until <local time>", or "Closed" (it never opens).
function hoursBadge(status) {
  if (!status) return null;
  const title = status.holiday ? tr("hours.holiday_today", { name: status.holiday })
    : status.always_open ? tr("hours.always_open_title") : null;
  if (status.open) return h("span", { class: "badge hours open", "data-hours": "open", title, text: tr("hours.open_now") });
  const text = status.next_opening ? tr("hours.closed_until", { when: stamp(status.next_opening, true) }) : tr("hours.closed");
  return h("span", { class: "badge hours closed", "data-hours": "closed", title, text });
}

const errorSlot = () => h("div", { class: "field-error", hidden: true, role: "alert" });

// The element marked data-field with the error's path, or the closest one of its prefixes.
function fieldBox(root, path) {
  const parts = path ? String(path).split(".") : [];
  while (parts.length) {
    const el = root.querySelector(`[data-field="${parts.join(".")}"]`);
    if (el) return el;
    parts.pop();
  }
  return null;
}

function clearErrors(root) {
  for (const el of root.querySelectorAll(".field-error")) { el.replaceChildren(); el.hidden = true; }
  for (const el of root.querySelectorAll(".invalid")) el.classList.remove("invalid");
}

function showError(root, general, field, message) {
  const box = fieldBox(root, field);
  const slot = box && box.querySelector(":scope > .field-error");
  const target = slot || general;
  target.append(h("div", { text: message }));
  target.hidden = false;
  if (box) box.classList.add("invalid");
}

function intervalRow(day, item = {}) {
  const from = h("input", { class: "field small", type: "time", "data-part": "from", "aria-label": tr("hours.from") });
  const to = h("input", { class: "field small", type: "time", "data-part": "to", "aria-label": tr("hours.to") });
  const overnight = h("input", { type: "checkbox", "data-part": "overnight" });
  from.value = item.from || "09:00";
  to.value = item.to === "24:00" ? "00:00" : (item.to || "18:00");
  overnight.checked = !!item.overnight;
  const row = h("div", { class: "hours-interval" },
    h("div", { class: "hours-times" }, from, h("span", { class: "muted", text: "–" }), to,
      h("label", { class: "hours-overnight" }, overnight, " ", tr("hours.overnight")),
      h("button", { class: "btn small ghost", type: "button", "data-act": "remove-interval", onclick: () => { row.remove(); } }, tr("hours.remove"))),
    errorSlot());
  row.dataset.day = day;
  return row;
}

function dayRow(day, items) {
  const list = h("div", { class: "hours-intervals" }, items.map((i) => intervalRow(day, i)));
  return h("div", { class: "hours-day", "data-field": `week.${day}`, "data-day": day },
    h("b", { class: "hours-day-name", text: tr(`hours.day.${day}`) }),
    h("div", {}, list, h("span", { class: "muted hours-closed-day", text: tr("hours.closed_day") })),
    h("button", { class: "btn small", type: "button", "data-act": "add-interval", onclick: () => list.append(intervalRow(day)) }, tr("hours.add_interval")),
    errorSlot());
}

function holidayRow(item = {}) {
  const date = h("input", { class: "field small", type: "date", "data-part": "date", "aria-label": tr("hours.holiday_date") });
  const name = h("input", { class: "field", type: "text", "data-part": "name", maxlength: "100", "aria-label": tr("hours.holiday_label"), placeholder: tr("hours.holiday_label") });
  date.value = item.date || "";
  name.value = item.name || "";
  const row = h("div", { class: "hours-holiday" },
    h("div", { class: "hours-times" }, date, name,
      h("button", { class: "btn small ghost", type: "button", "data-act": "remove-holiday", onclick: () => row.remove() }, tr("hours.remove"))),
    errorSlot());
  return row;
}

// The editor in a modal; `saved(result)` after a good save (the page reloads its list).
async function departmentHoursEditor(dept, saved) {
  const data = await api("GET", `/api/admin/departments/${dept.id}/hours`);
  const hours = data.hours;
  const always = h("input", { type: "checkbox", id: "hours-always-open", checked: hours.always_open });
  const count = h("input", { type: "checkbox", id: "hours-count-open", checked: hours.count_open_hours_only });
  const week = h("div", { class: "hours-week", "data-field": "week" }, DAYS.map((d) => dayRow(d, hours.week[d] || [])), errorSlot());
  const holidayList = h("div", { class: "hours-holiday-list" }, (hours.holidays || []).map(holidayRow));
  const holidays = h("div", { class: "hours-holidays", "data-field": "holidays" },
    h("h3", { text: tr("hours.holidays") }), h("p", { class: "muted", text: tr("hours.holidays_help") }), holidayList,
    h("button", { class: "btn small", type: "button", id: "hours-add-holiday", onclick: () => holidayList.append(holidayRow()) }, tr("hours.add_holiday")),
    errorSlot());
  const schedule = h("div", { class: "hours-schedule" }, h("h3", { text: tr("hours.week") }), week, holidays);
  const sync = () => { schedule.hidden = always.checked; };
  always.addEventListener("change", sync);
  sync();
  const general = h("div", { class: "form-error", hidden: true, role: "alert", id: "hours-error" });
  const body = h("div", { class: "hours-editor", id: "hours-editor" },
    h("p", { class: "muted", id: "hours-time-zone", text: tr("hours.time_zone", { zone: data.time_zone }) }),
    h("div", { "data-field": "always_open" }, h("label", {}, always, " ", tr("hours.always_open")), errorSlot()),
    schedule,
    h("div", { "data-field": "count_open_hours_only" }, h("label", {}, count, " ", tr("hours.count_open_only")),
      h("div", { class: "help muted", text: tr("hours.count_open_only_help") }), errorSlot()),
    general);

  // What is sent: the rows as they are on screen, numbered as the API will name them.
  const collect = () => {
    const out = { always_open: always.checked, count_open_hours_only: count.checked, week: {}, holidays: [] };
    for (const day of DAYS) {
      const rows = [...week.querySelectorAll(`.hours-day[data-day=${day}] .hours-interval`)];
      out.week[day] = rows.map((row, n) => {
        row.dataset.field = `week.${day}.${n}`;
        const item = { from: row.querySelector("[data-part=from]").value, to: row.querySelector("[data-part=to]").value };
        if (row.querySelector("[data-part=overnight]").checked) item.overnight = true;
        return item;
      });
    }
    [...holidayList.querySelectorAll(".hours-holiday")].forEach((row, n) => {
      row.dataset.field = `holidays.${n}`;
      const item = { date: row.querySelector("[data-part=date]").value };
      const name = row.querySelector("[data-part=name]").value.trim();
      if (name) item.name = name;
      out.holidays.push(item);
    });
    return out;
  };

  modal({
    title: tr("hours.title", { department: dept.name }), body,
    actions: [{ label: tr("common.cancel") }, { label: tr("common.save"), kind: "primary", icon: "check", run: async () => {
      clearErrors(body);
      general.replaceChildren(); general.hidden = true;
      try {
        const result = await api("PUT", `/api/admin/departments/${dept.id}/hours`, collect());
        toast(tr("hours.saved", { department: dept.name }), "ok");
        if (saved) saved(result);
      } catch (e) {
        showError(body, general, e.data && e.data.field, e.message);
        return false;
      }
    } }],
  });
}

window.departmentHoursEditor = departmentHoursEditor;
window.hoursBadge = hoursBadge;
