/* tsunagi console · Trainer: the bot's misses, grouped (GET /api/trainer/misses), each
   filed as a question of an article (written to knowledge/faq) or marked out of scope.
   Its own page area; console.js's helpers (h, api, icon, toast, renderAdmin) at call time. */
"use strict";

const MISS_KINDS = { unsure: "not sure", not_helpful: "called not helpful", fallback: "not understood" };

async function adminTrainer() {
  const data = await api("GET", "/api/trainer/misses");
  const reload = () => renderAdmin("trainer");
  const articleSelect = (group) => {
    const sel = h("select", { class: "field", "aria-label": "Article" },
      h("option", { value: "", text: "Choose the article…" }),
      data.articles.map((a) => h("option", { value: a.id, text: `${a.title} · ${a.area}` })));
    sel.value = group.guess || "";
    return sel;
  };
  const rows = data.groups.map((g) => {
    const article = articleSelect(g);
    const question = h("input", { class: "field", type: "text", maxlength: "300", "aria-label": "Question to add" });
    question.value = g.examples[0];
    const result = h("div", { class: "form-error", hidden: true, role: "alert" });
    const act = async (action) => {
      result.hidden = true;
      try {
        const r = await api("POST", "/api/trainer/misses/resolve", { ids: g.ids, action, article: article.value, question: question.value });
        toast(action === "variant" ? `Added to ${r.file}. ${r.next}` : `${r.resolved} marked out of scope.`, "ok");
        reload();
      } catch (e) { result.textContent = e.message; result.hidden = false; }
    };
    const kinds = Object.entries(g.kinds).map(([k, n]) => `${n} ${MISS_KINDS[k] || k}`).join(", ");
    return h("div", { class: "card miss-group", "data-key": g.key }, h("div", { class: "body" },
      h("div", { class: "miss-head" }, h("b", { class: "miss-count", text: `×${g.count}` }),
        h("span", { class: "muted", text: `${kinds}${g.guess ? ` · the bot guessed ${g.guess} (${Math.round((g.guess_confidence || 0) * 100)}%)` : ""}` })),
      h("ul", { class: "miss-examples" }, g.examples.map((x) => h("li", { text: x }))),
      h("div", { class: "inline-form" }, question, article,
        h("button", { class: "btn primary", type: "button", "data-act": "variant", onclick: () => act("variant") }, icon("check"), "Add as a question"),
        h("button", { class: "btn", type: "button", "data-act": "out_of_scope", onclick: () => act("out_of_scope") }, icon("x"), "Out of scope")),
      result));
  });
  return [h("div", { class: "page-head" }, h("div", {}, h("h1", { text: "Bot inbox" }),
    h("p", { class: "lead-in", text: "What the bot did not understand, was not sure of, or answered wrongly, grouped. Add each to the article it should have found (it is written to the knowledge files) and retrain, or mark it out of scope." }))),
    rows.length ? h("div", { id: "miss-groups" }, rows) : h("div", { class: "card" }, h("div", { class: "body muted", id: "no-misses", text: "Nothing to review: the bot has not missed anything since the last look." }))];
}
