/* tsunagi console · words and dates in the operator's language (loaded before every page script).
 *
 * The catalogs are desk/i18n/{en,ja}.json, served as /i18n/catalogs.js (window.TSUNAGI_CATALOGS).
 * The locale: the operator's own choice (operators.locale, remembered in localStorage by
 * console.js after /api/me), else the browser's languages (navigator.languages), else English.
 * `tr(key, vars)`: the text with {name} variables; with `count`, the `.one` / `.other` form.
 * Dates: Intl.DateTimeFormat in that locale and the brand's time zone (`setTimeZone`).
 */
"use strict";

const I18N = (() => {
  const catalogs = window.TSUNAGI_CATALOGS || { en: {} };
  const STORE = "tsunagi.locale";
  const supported = Object.keys(catalogs);
  function browserLocale() {
    for (const tag of navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"]) {
      const base = String(tag).toLowerCase().split("-")[0];
      if (supported.includes(base)) return base;
    }
    return "en";
  }
  function savedLocale() {
    try { return localStorage.getItem(STORE) || ""; } catch (_) { return ""; }
  }
  const saved = savedLocale();
  const locale = supported.includes(saved) ? saved : browserLocale();
  return { catalogs, locale, supported, browserLocale, STORE, timeZone: "UTC" };
})();

function tr(key, vars) {
  const pick = (loc) => {
    const cat = I18N.catalogs[loc] || {};
    if (vars && typeof vars.count === "number") {
      const form = vars.count === 1 ? "one" : "other";
      if (cat[`${key}.${form}`] != null) return cat[`${key}.${form}`];
      if (cat[`${key}.other`] != null) return cat[`${key}.other`];
    }
    return cat[key];
  };
  const text = pick(I18N.locale) ?? pick("en") ?? key;
  if (!vars) return text;
  return text.replace(/\{([a-z_][a-z0-9_]*)\}/g, (m, name) => (Object.prototype.hasOwnProperty.call(vars, name) && vars[name] != null ? String(vars[name]) : m));
}

// The operator's choice: remembered for the next page load (the sign-in page included).
// True if it is remembered (a page loaded again then opens in it).
function rememberLocale(locale) {
  try {
    if (locale) localStorage.setItem(I18N.STORE, locale); else localStorage.removeItem(I18N.STORE);
    return (localStorage.getItem(I18N.STORE) || "") === (locale || "");
  } catch (_) { return false; /* storage refused: the browser's language then */ }
}

function setTimeZone(zone) {
  try { new Intl.DateTimeFormat("en", { timeZone: zone }); I18N.timeZone = zone; } catch (_) { I18N.timeZone = "UTC"; }
}

// A date or time in the operator's locale and the brand's time zone.
function fmtDate(ms, opts) {
  return new Intl.DateTimeFormat(I18N.locale, { ...opts, timeZone: I18N.timeZone }).format(new Date(ms));
}
// The calendar day of a moment in the brand's time zone ("2026-12-03"): for Today / Yesterday.
function dayKey(ms) {
  return new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone: I18N.timeZone }).format(new Date(ms));
}

// Static pages: <x data-i18n="key"> gets its text, data-i18n-attr="placeholder:key;title:key" its attributes.
function translatePage(root = document) {
  document.documentElement.lang = I18N.locale;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = tr(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      if (attr && key) el.setAttribute(attr.trim(), tr(key.trim()));
    }
  }
}
translatePage();
