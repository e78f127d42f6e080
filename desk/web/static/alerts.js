/* tsunagi console · alerts: a chime and a desktop notification when a chat arrives (and,
   for admins, when Meta pauses a template or rates it RED).
   Called by console.js after each count refresh. The chime is WebAudio (no file to
   fetch); the notification uses the Notification API once the operator allows it, and
   only while the console is in the background (in front, the chime and the counts say it). */
"use strict";

const ALERTS = { audio: null, last: null, log: [], quietUntil: 0 };
window.tsunagiAlerts = ALERTS.log;  // what was announced (read by the browser tests)

function alertsUnlock() {  // browsers start audio only after a gesture on the page
  if (ALERTS.audio || !window.AudioContext) return;
  try { ALERTS.audio = new AudioContext(); } catch (_) { ALERTS.audio = null; }
}
document.addEventListener("pointerdown", alertsUnlock, { once: true, passive: true });
document.addEventListener("keydown", alertsUnlock, { once: true, passive: true });

function alertsChime() {
  const ctx = ALERTS.audio;
  if (!ctx) return;
  const t = ctx.currentTime;
  for (const [i, freq] of [[0, 880], [1, 1320]]) {
    const osc = ctx.createOscillator(), gain = ctx.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t + i * 0.14);
    gain.gain.exponentialRampToValueAtTime(0.2, t + i * 0.14 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.14 + 0.25);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t + i * 0.14);
    osc.stop(t + i * 0.14 + 0.3);
  }
}

function alertsNotify(title, body) {
  ALERTS.log.push({ title, body });
  alertsChime();
  if (!("Notification" in window) || Notification.permission !== "granted" || !document.hidden) return;
  try {
    const n = new Notification(title, { body, tag: "tsunagi-chat", icon: "/static/favicon.svg" });
    n.onclick = () => { window.focus(); n.close(); };
  } catch (_) { /* some browsers allow notifications only from a service worker */ }
}

// The operator's own picks and moves change the counts too: no alert for those.
function alertsQuiet(ms = 3000) { ALERTS.quietUntil = Date.now() + ms; }

// `counts` as /api/counts gives them; the first call only takes the baseline.
// Admins' counts carry `template_warnings` (templates Meta paused or rated RED): one more warns them.
function alertOnCounts(counts) {
  const now = { mine: counts.mine || 0, queued: (counts.waiting || 0) + (counts.unattended || 0),
    templates: counts.template_warnings || 0 };
  const before = ALERTS.last;
  ALERTS.last = now;
  if (!before) return;
  if (now.templates > before.templates) alertsNotify(tr("alerts.template"), tr("alerts.template_body"));
  if (Date.now() < ALERTS.quietUntil) return;
  if (now.mine > before.mine) alertsNotify(tr("alerts.assigned"), tr("alerts.assigned_body"));
  else if (now.queued > before.queued) alertsNotify(tr("alerts.waiting"), tr("alerts.waiting_body"));
}

// The button that asks for desktop notifications (a browser asks only after a click).
function alertsButton() {
  if (!("Notification" in window) || Notification.permission !== "default") return null;
  const btn = document.createElement("button");
  btn.type = "button";
  btn.className = "signout";
  btn.id = "enable-alerts";
  btn.textContent = tr("alerts.enable");
  btn.addEventListener("click", async () => {
    alertsUnlock();
    try { await Notification.requestPermission(); } catch (_) { /* refused */ }
    btn.remove();
  });
  return btn;
}
