/* tsunagi console · Trainer: the bot's misses, grouped (GET /api/trainer/misses), each
   filed as a question of an article (written to knowledge/faq) or marked out of scope.
   Its own page area; console.js's helpers (h, api, icon, toast, renderAdmin) at call time. */
"use strict";

const MISS_KINDS = { unsure: tr("miss.unsure"), not_helpful: tr("miss.not_helpful"), fallback: tr("miss.fallback") };

async function adminTrainer() {
  const data = await api("GET", "/api/trainer/misses");
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
    const kinds = Object.entries(g.kinds).map(([k, n]) => tr("miss.count", { n, kind: MISS_KINDS[k] || k })).join(", ");
    return h("div", { class: "card miss-group", "data-key": g.key }, h("div", { class: "body" },
      h("div", { class: "miss-head" }, h("b", { class: "miss-count", text: `×${g.count}` }),
        h("span", { class: "muted", text: `${kinds}${g.guess ? tr("trainer.guessed", { article: g.guess, pct: Math.round((g.guess_confidence || 0) * 100) }) : ""}` })),
      h("ul", { class: "miss-examples" }, g.examples.map((x) => h("li", { text: x }))),
      h("div", { class: "inline-form" }, question, article,
        h("button", { class: "btn primary", type: "button", "data-act": "variant", onclick: () => act("variant") }, icon("check"), tr("trainer.add_question")),
        h("button", { class: "btn", type: "button", "data-act": "out_of_scope", onclick: () => act("out_of_scope") }, icon("x"), tr("trainer.out_of_scope"))),
      result));
  });
  return [h("div", { class: "page-head" }, h("div", {}, h("h1", { text: tr("trainer.title") }),
    h("p", { class: "lead-in", text: tr("trainer.intro") }))),
    rows.length ? h("div", { id: "miss-groups" }, rows) : h("div", { class: "card" }, h("div", { class: "body muted", id: "no-misses", text: tr("trainer.nothing") }))];
}
