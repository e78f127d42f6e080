/* tsunagi console · FAQ articles (trainers and admins): the list by area with search
   (GET /api/trainer/articles), the editor of one article (GET/PUT /api/trainer/articles/{id})
   and a new one (POST /api/trainer/articles; from a miss group of the bot inbox:
   #/admin/articles/new/<miss ids>). Saving writes knowledge/faq/<area>.yml; a refused save
   shows each problem next to its field (errors: [{field, message}]) and writes nothing.
   A browser-native ES module: console.js's helpers (h, api, icon, toast, tr, renderAdmin)
   are the page's globals; it registers its page as window.adminArticles. */

const LIST_FIELDS = ["questions", "casual_questions", "test_questions"];

// "en.questions.3" → the closest element of the form marked data-field with it or a prefix.
function fieldBox(form, path) {
  const parts = path ? path.split(".") : [];
  while (parts.length) {
    const el = form.querySelector(`[data-field="${parts.join(".")}"]`);
    if (el) return el;
    parts.pop();
  }
  return null;
}

function showErrors(form, general, errors) {
  for (const el of form.querySelectorAll(".field-error")) { el.replaceChildren(); el.hidden = true; }
  for (const el of form.querySelectorAll(".invalid")) el.classList.remove("invalid");
  const rest = [];
  for (const e of errors) {
    const box = fieldBox(form, e.field);
    const slot = box && box.querySelector(":scope > .field-error");
    if (!slot) { rest.push(e.message); continue; }
    slot.append(h("div", { text: e.message }));
    slot.hidden = false;
    box.classList.add("invalid");
  }
  general.replaceChildren(...rest.map((m) => h("div", { text: m })));
  general.hidden = !rest.length;
}

const lines = (ta) => ta.value.split("\n").map((x) => x.trim()).filter(Boolean);

function row(path, label, control, help) {
  return h("div", { class: "article-field", "data-field": path },
    h("label", { class: "field-label", for: control.id || null, text: label }),
    control, help ? h("div", { class: "help muted", text: help }) : null,
    h("div", { class: "field-error", hidden: true, role: "alert" }));
}

function buttonRows(lang, buttons, limits) {
  const box = h("div", { class: "article-buttons" });
  const add = (b) => {
    const i = box.children.length;
    const title = h("input", { class: "field", type: "text", "data-part": "title", id: `a-${lang}-button-${i}-title`, "aria-label": tr("articles.button_title"), placeholder: tr("articles.button_title"), maxlength: String(limits.button_title * 2) });
    const payload = h("input", { class: "field", type: "text", "data-part": "payload", id: `a-${lang}-button-${i}-payload`, "aria-label": tr("articles.button_payload"), placeholder: "/intent" });
    title.value = b.title || ""; payload.value = b.payload || "";
    const el = h("div", { class: "article-button" },
      h("div", { "data-field": `${lang}.buttons.${i}.title` }, title, h("div", { class: "field-error", hidden: true, role: "alert" })),
      h("div", { "data-field": `${lang}.buttons.${i}.payload` }, payload, h("div", { class: "field-error", hidden: true, role: "alert" })),
      h("button", { class: "btn small", type: "button", onclick: () => { title.value = ""; payload.value = ""; el.hidden = true; } }, tr("articles.remove_button")));
    box.append(el);
  };
  buttons.forEach(add);
  const more = h("button", { class: "btn small", type: "button", "data-act": "add-button", onclick: () => add({}) }, icon("plus"), tr("articles.add_button"));
  const read = () => [...box.children].filter((el) => !el.hidden).map((el) => ({
    title: el.querySelector("[data-part=title]").value.trim(), payload: el.querySelector("[data-part=payload]").value.trim() }))
    .filter((b) => b.title || b.payload);
  return { el: h("div", {}, box, more), read };
}

function languageBlock(lang, text, limits) {
  const id = (f) => `a-${lang}-${f}`;
  const title = h("input", { class: "field", type: "text", id: id("title"), maxlength: "200" });
  title.value = text.title;
  const answer = h("textarea", { class: "field", id: id("answer"), rows: "5" });
  answer.value = text.answer;
  const followUp = h("textarea", { class: "field", id: id("follow_up"), rows: "2" });
  followUp.value = text.follow_up;
  const lists = {};
  for (const f of LIST_FIELDS) {
    lists[f] = h("textarea", { class: "field", id: id(f), rows: f === "test_questions" ? "4" : "8" });
    lists[f].value = text[f].join("\n");
  }
  const buttons = buttonRows(lang, text.buttons, limits);
  const [qmin, qmax] = limits.questions, [cmin, cmax] = limits.casual_questions, [tmin, tmax] = limits.test_questions;
  const el = h("fieldset", { class: "card article-lang", "data-lang": lang, "data-field": lang },
    h("legend", { text: tr(`language.${lang}`) }),
    h("div", { class: "field-error", hidden: true, role: "alert" }),
    row(`${lang}.title`, tr("articles.field.title"), title),
    row(`${lang}.answer`, tr("articles.field.answer"), answer),
    row(`${lang}.buttons`, tr("articles.field.buttons"), buttons.el),
    row(`${lang}.questions`, tr("articles.field.questions"), lists.questions, tr("articles.lines_help", { min: qmin, max: qmax })),
    row(`${lang}.casual_questions`, tr("articles.field.casual_questions"), lists.casual_questions, tr("articles.lines_help", { min: cmin, max: cmax })),
    row(`${lang}.follow_up`, tr("articles.field.follow_up"), followUp),
    row(`${lang}.test_questions`, tr("articles.field.test_questions"), lists.test_questions, tr("articles.lines_help", { min: tmin, max: tmax })));
  const read = () => ({ title: title.value, answer: answer.value, follow_up: followUp.value, buttons: buttons.read(),
    ...Object.fromEntries(LIST_FIELDS.map((f) => [f, lines(lists[f])])) });
  return { el, read };
}

async function editor(articleId, missIds) {
  const isNew = !articleId;
  const data = isNew
    ? await api("GET", `/api/trainer/articles/new${missIds.length ? `?miss_ids=${missIds.join(",")}` : ""}`)
    : await api("GET", `/api/trainer/articles/${encodeURIComponent(articleId)}`);
  let version = data.version;
  const general = h("div", { class: "form-error", id: "article-errors", hidden: true, role: "alert" });
  const area = h("select", { class: "field", id: "a-area", disabled: !isNew },
    data.areas.map((a) => h("option", { value: a.area, text: a.title })));
  area.value = data.area || data.areas[0].area;
  const idInput = h("input", { class: "field", type: "text", id: "a-id", maxlength: "60", placeholder: "gift_wrapping", disabled: !isNew });
  idInput.value = data.id || "";
  const humanOnly = h("input", { type: "checkbox", id: "a-human_only", checked: data.human_only });
  const blocks = Object.entries(data.texts).map(([lang, text]) => [lang, languageBlock(lang, text, data.limits)]);
  const form = h("form", { class: "article-form", id: "article-form", novalidate: true },
    isNew && missIds.length ? h("p", { class: "notice", text: tr("articles.from_misses") }) : null,
    h("div", { class: "card" }, h("div", { class: "body" },
      row("area", tr("articles.area"), area),
      row("id", tr("articles.id"), idInput, isNew ? tr("articles.id_help") : null),
      h("div", { class: "article-field", "data-field": "human_only" },
        h("label", { class: "check" }, humanOnly, " ", tr("articles.human_only")),
        h("div", { class: "field-error", hidden: true, role: "alert" })))),
    blocks.map(([, b]) => b.el),
    general,
    h("div", { class: "form-actions" },
      h("button", { class: "btn primary", type: "submit", id: "save-article" }, icon("check"), tr(isNew ? "articles.create" : "articles.save"))));
  const article = () => ({ human_only: humanOnly.checked, texts: Object.fromEntries(blocks.map(([lang, b]) => [lang, b.read()])) });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const save = form.querySelector("#save-article");
    save.disabled = true;
    try {
      const r = isNew
        ? await api("POST", "/api/trainer/articles", { area: area.value, id: idInput.value.trim(), article: article(), miss_ids: missIds })
        : await api("PUT", `/api/trainer/articles/${encodeURIComponent(articleId)}`, { version, article: article() });
      version = r.version;
      showErrors(form, general, []);
      toast(tr("articles.saved", { next: r.next }), "ok");
      if (isNew) location.hash = `#/admin/articles/${r.id}`;
    } catch (err) {
      const errors = (err.data && err.data.errors) || [];
      showErrors(form, general, errors.length ? errors : [{ field: "", message: err.message }]);
      if (errors.length) general.prepend(h("div", { text: err.message }));
      general.hidden = false;
      if (err.status === 409) {
        general.append(h("button", { class: "btn small", type: "button", id: "reload-article", onclick: () => renderAdmin("articles") }, tr("articles.reload")));
      }
      const first = form.querySelector(".invalid");
      (first || general).scrollIntoView({ block: "center" });
    } finally { save.disabled = false; }
  });
  const heading = isNew ? tr("articles.new_title") : tr("articles.edit_title", { title: data.texts[Object.keys(data.texts)[0]].title });
  return [h("div", { class: "page-head" }, h("div", {},
    h("a", { href: "#/admin/articles", class: "back-link", id: "articles-back" }, tr("articles.back")),
    h("h1", { text: heading }), h("p", { class: "lead-in", text: tr("articles.intro") }))), form];
}

async function articleList() {
  const results = h("div", { id: "article-areas" });
  const search = h("input", { class: "field", type: "search", id: "article-search", placeholder: tr("articles.search"), "aria-label": tr("articles.search") });
  let asked = 0;
  const load = async () => {
    const mine = ++asked;
    const q = search.value.trim();
    const data = await api("GET", `/api/trainer/articles${q ? `?q=${encodeURIComponent(q)}` : ""}`);
    if (mine !== asked) return;  // a later search answered first
    const areas = data.areas.filter((a) => a.articles.length);
    results.dataset.query = data.query;
    results.replaceChildren(...(areas.length ? areas.map((a) => h("div", { class: "card article-area", "data-area": a.area },
      h("div", { class: "body" }, h("h2", { text: a.title }),
        h("table", { class: "grid" }, h("tbody", {}, a.articles.map((x) => h("tr", { "data-article": x.id },
          h("td", {}, h("a", { href: `#/admin/articles/${x.id}`, text: x.title })),
          h("td", { class: "muted mono", text: x.id }),
          h("td", { class: "muted", text: tr("articles.questions_count", { n: x.questions }) }),
          h("td", {}, x.human_only ? h("span", { class: "badge", text: tr("articles.human_only_badge") }) : null)))))))) 
      : [h("div", { class: "card" }, h("div", { class: "body muted", id: "no-articles", text: tr("articles.none") }))]));
  };
  search.addEventListener("input", () => { load().catch((e) => toast(e.message, "error")); });
  await load();
  return [h("div", { class: "page-head" }, h("div", {}, h("h1", { text: tr("articles.title") }),
    h("p", { class: "lead-in", text: tr("articles.intro") })),
    h("a", { class: "btn primary", href: "#/admin/articles/new", id: "new-article" }, icon("plus"), tr("articles.new"))),
    h("div", { class: "inline-form article-search" }, search), results];
}

// #/admin/articles, #/admin/articles/<id>, #/admin/articles/new[/<miss ids>]
async function adminArticles() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[2] === "new") return editor(null, (parts[3] || "").split(",").map(Number).filter((n) => n > 0));
  if (parts[2]) return editor(parts[2], []);
  return articleList();
}

window.adminArticles = adminArticles;
