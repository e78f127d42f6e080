/* tsunagi console · Trainer: the bot's misses, grouped (GET /api/trainer/misses), each
   filed as a question of an article (written to knowledge/faq) or marked out of scope.
   A group no article fits starts a new one (articles.js). Its own page area; console.js's helpers (h, api, icon, toast, renderAdmin) at call time. */
"use strict";

// Why a message is in the inbox (desk.services.bot_misses.KINDS), shown per group as reasons.
const MISS_KINDS = ["fallback", "unsure", "low_confidence", "not_helpful", "handoff"];
const missReason = (kind) => (MISS_KINDS.includes(kind) ? tr(`miss.${kind}`) : kind);

// The bot's models (GET /api/trainer/models): train from the knowledge as it is now,
// publish a trained one; the bot swaps to it without a restart (desk.services.bot_models).
function modelFigures(m) {
  if (!m.figures) return "";
  return Object.entries(m.figures).filter(([, f]) => f && typeof f === "object").map(([lang, f]) => {
    const parts = [];
    if (f.intent_f1 != null) parts.push(tr("models.intent_f1", { v: Number(f.intent_f1).toFixed(2) }));
    if (f.response_accuracy != null) parts.push(tr("models.articles", { v: Number(f.response_accuracy).toFixed(2) }));
    return `${lang}: ${parts.join(", ")}`;
  }).join(" · ");
}

// The held-out set's worst confusions of a run ("faq/returns → faq/exchanges ×3"), per language.
function modelConfusions(m) {
  if (!m.figures) return null;
  const items = Object.entries(m.figures).filter(([, f]) => f && Array.isArray(f.confused) && f.confused.length)
    .flatMap(([lang, f]) => f.confused.map((p) => h("li", { text: `${lang}: ${p.label} → ${p.taken_for} ×${p.count}` })));
  return items.length ? h("details", { class: "model-confused" }, h("summary", { text: tr("models.confused") }), h("ul", {}, items)) : null;
}

function modelsCard(data, reload) {
  const note = h("input", { class: "field", type: "text", maxlength: "200", id: "train-note", placeholder: tr("models.note_placeholder"), "aria-label": tr("models.note") });
  const error = h("div", { class: "form-error", hidden: true, role: "alert" });
  const fail = (e) => { error.textContent = e.message; error.hidden = false; };
  const train = h("button", { class: "btn primary", type: "button", id: "train-model", onclick: async () => {
    try { await api("POST", "/api/trainer/models", { note: note.value }); toast(tr("models.queued"), "ok"); reload(); } catch (e) { fail(e); }
  } }, icon("zap"), tr("models.train"));
  const rows = data.models.map((m) => h("tr", { "data-model-id": String(m.id) },
    h("td", { text: `#${m.id}` }),
    h("td", {}, h("span", { class: `badge model-${m.state}`, text: tr(`models.state.${m.state}`) }), " ", m.live ? h("span", { class: "badge live", text: tr("models.live") }) : null,
      m.state === "training" ? h("span", { class: "muted model-progress", text: " " + progressText(m) }) : null),
    h("td", { class: "muted", text: [m.note, m.publish_reason && tr("models.published_because", { reason: m.publish_reason })].filter(Boolean).join(" · ") }),
    h("td", { class: "muted" }, m.state === "failed" ? (m.log_tail || "").trim().split("\n").slice(-1)[0] : modelFigures(m),
      m.state === "failed" ? null : modelConfusions(m)),
    h("td", { class: "muted", text: stamp(m.finished_at || m.requested_at) }),
    h("td", {}, ["trained", "retired"].includes(m.state) ? h("button", { class: "btn small", type: "button", "data-act": "publish", onclick: async () => {
      try { await api("POST", `/api/trainer/models/${m.id}/publish`); toast(tr("models.published", { id: m.id }), "ok"); reload(); } catch (e) {
        if (e.status === 409 && e.data && e.data.needs_reason) override(m, e.data.worse || []); else fail(e);
      }
    } }, tr("models.publish")) : null)));
  // A model that scores worse than the one in service goes out only with the trainer's reason.
  const overrideBox = h("div", { class: "model-override", id: "model-override", hidden: true });
  const override = (m, worse) => {
    const reason = h("input", { class: "field", type: "text", maxlength: "500", id: "override-reason", "aria-label": tr("models.override_reason") });
    const go = h("button", { class: "btn danger small", type: "button", id: "publish-anyway", onclick: async () => {
      try {
        await api("POST", `/api/trainer/models/${m.id}/publish`, { reason: reason.value });
        toast(tr("models.published", { id: m.id }), "ok"); reload();
      } catch (e) { fail(e); }
    } }, tr("models.publish_anyway"));
    overrideBox.replaceChildren(
      h("p", { class: "form-error", role: "alert", text: tr("models.worse", { id: m.id }) }),
      h("ul", {}, worse.map((w) => h("li", { text: w }))),
      h("label", { class: "muted", for: "override-reason", text: tr("models.override_reason") }),
      h("div", { class: "inline-form" }, reason, go));
    overrideBox.hidden = false;
    error.hidden = true;
    reason.focus();
  };
  followTraining(data, reload);
  return h("div", { class: "card", id: "bot-models" }, h("div", { class: "body" },
    h("h2", { text: tr("models.title") }),
    h("p", { class: "muted", text: data.model_server ? tr("models.intro") : tr("models.intro_no_server") }),
    h("div", { class: "inline-form" }, note, train), error, overrideBox,
    rows.length ? h("table", { class: "grid", id: "models-table" }, h("tbody", {}, rows)) : h("p", { class: "muted", text: tr("models.none") })));
}

// "step 2 of 3: training · 1 min 20 s" (bot_models.progress is "2/3 train").
function progressText(m) {
  const [count, step] = (m.progress || "").split(" ");
  const [i, n] = (count || "").split("/");
  const where = i && n ? tr("models.progress", { i, n, step: tr(`models.step.${step || "step"}`) }) : tr("models.step.step");
  return m.started_at ? `${where} · ${elapsed(m.started_at)}` : where;
}

// How long a run has been training, as "3 min 5 s".
function elapsed(since) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(since)) / 1000));
  return s >= 60 ? tr("models.elapsed_min", { m: Math.floor(s / 60), s: s % 60 }) : tr("models.elapsed_s", { s });
}

// While a run is queued or training, its card follows it (every 3 s, while it is shown;
// only the models card is redrawn, and not while the trainer is typing in it).
let trainerFollow = null;
function followTraining(data, reload) {
  clearTimeout(trainerFollow);
  if (!data.models.some((m) => m.state === "queued" || m.state === "training")) return;
  trainerFollow = setTimeout(async () => {
    const card = document.getElementById("bot-models");
    if (!card) return;   // the trainer went elsewhere
    if (card.contains(document.activeElement) && document.activeElement.tagName === "INPUT") { followTraining(data, reload); return; }
    try {
      const fresh = await api("GET", "/api/trainer/models", undefined, { background: true });
      const now = document.getElementById("bot-models");
      if (now) now.replaceWith(modelsCard(fresh, reload));
    } catch (_) { followTraining(data, reload); }
  }, 3000);
}

async function adminTrainer() {
  const data = await api("GET", "/api/trainer/misses");
  const models = await api("GET", "/api/trainer/models");
  const reload = () => renderAdmin("trainer");
  const articleSelect = (group) => {
    const sel = h("select", { class: "field", "aria-label": tr("trainer.article") },
      h("option", { value: "", text: tr("trainer.choose_article") }),
      data.articles.map((a) => h("option", { value: a.id, text: `${a.title} · ${a.area}` })));
    sel.value = group.guess || "";
    return sel;
  };
  const rows = data.groups.map((g) => {
    const article = articleSelect(g);
    const question = h("input", { class: "field", type: "text", maxlength: "300", "aria-label": tr("trainer.question_to_add") });
    question.value = g.examples[0];
    const result = h("div", { class: "form-error", hidden: true, role: "alert" });
    const act = async (action) => {
      result.hidden = true;
      try {
        const r = await api("POST", "/api/trainer/misses/resolve", { ids: g.ids, action, article: article.value, question: question.value });
        toast(action === "variant" ? tr("trainer.added", { file: r.file, next: r.next }) : tr("trainer.out_of_scope_done", { n: r.resolved }), "ok");
        reload();
      } catch (e) { result.textContent = e.message; result.hidden = false; }
    };
    const reasons = Object.entries(g.kinds).sort(([a], [b]) => MISS_KINDS.indexOf(a) - MISS_KINDS.indexOf(b))
      .map(([k, n]) => h("span", { class: "badge miss-reason", "data-kind": k, text: tr("miss.count", { n, kind: missReason(k) }) }));
    return h("div", { class: "card miss-group", "data-key": g.key }, h("div", { class: "body" },
      h("div", { class: "miss-head" }, h("b", { class: "miss-count", text: `×${g.count}` }),
        h("span", { class: "miss-reasons", title: tr("trainer.reasons") }, reasons),
        g.guess ? h("span", { class: "muted", text: tr("trainer.guessed", { article: g.guess, pct: Math.round((g.guess_confidence || 0) * 100) }) }) : null),
      h("ul", { class: "miss-examples" }, g.examples.map((x) => h("li", { text: x }))),
      h("div", { class: "inline-form" }, question, article,
        h("button", { class: "btn primary", type: "button", "data-act": "variant", onclick: () => act("variant") }, icon("check"), tr("trainer.add_question")),
        h("button", { class: "btn", type: "button", "data-act": "out_of_scope", onclick: () => act("out_of_scope") }, icon("x"), tr("trainer.out_of_scope")),
        // No article fits: start one with the group's questions (articles.js).
        h("a", { class: "btn", href: `#/admin/articles/new/${g.ids.join(",")}`, "data-act": "new_article" }, icon("plus"), tr("trainer.new_article"))),
      result));
  });
  return [h("div", { class: "page-head" }, h("div", {}, h("h1", { text: tr("trainer.title") }),
    h("p", { class: "lead-in", text: tr("trainer.intro") }))), modelsCard(models, reload),
    rows.length ? h("div", { id: "miss-groups" }, rows) : h("div", { class: "card" }, h("div", { class: "body muted", id: "no-misses", text: tr("trainer.nothing") }))];
}
