"""FAQ articles edited in the console: read one as a form, save it back into its file.

The files `knowledge/faq/<area>.yml` stay the versioned source of truth (docs/training.md
says why): `save_article` writes the form into the article's YAML with a ruamel round
trip (comments, key order, folded answers kept; only the changed values differ) and
`create_article` appends a new one to an area's file. Both check the form first, field
by field (`ArticleInvalid.errors`: a field path such as `ja.questions.3` or
`en.buttons.0.title`, a catalog key of desk/i18n and its values, so the console says it
in the operator's language), then run the same loader the training uses
(`knowledge.load_articles`) on the candidate files in a scratch directory: only a
candidate the loader accepts replaces the file (atomically), so a refused save leaves
the file exactly as it was.

Concurrent edits: an article's `version` is a sha256 of its stored data; a save names
the version its form was read at, and a different current version (somebody saved, or
the file was edited and pulled from git, in between) is refused with `StaleArticle`
instead of overwriting. The read-check-write runs under a file lock per knowledge
directory (the `filelock` package), shared by every console process and by
`desk.services.trainer.add_question`.

The generated training files (`python -m knowledge.build`) are not written here: a
training run from the console (desk.services.bot_models) runs the build first.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import knowledge

LIST_FIELDS = ("questions", "casual_questions", "test_questions")
TEXT_FIELDS = ("title", "answer", "follow_up")
# The order keys get in a language block written by the console (that of docs/training.md).
BLOCK_ORDER = ("title", "answer", "buttons", "questions", "casual_questions", "follow_up", "test_questions")
COUNTS = {"questions": (knowledge.MIN_QUESTIONS, knowledge.MAX_QUESTIONS),
          "casual_questions": (0, knowledge.MAX_CASUAL_QUESTIONS),
          "test_questions": (knowledge.MIN_TEST_QUESTIONS, knowledge.MAX_TEST_QUESTIONS)}
TITLE_MAX = 120
ID_MAX = 60
_LANG_IN_PROBLEM = re.compile(r"\(([a-z0-9_]+)\) \[([a-z]{2})\]: (?:'?)([a-z_]+)")


@dataclass
class FieldError:
    field: str            # "" (the whole article), "id", "area", "en.title", "ja.questions.3", ...
    key: str              # desk/i18n catalog key, or "" when `text` is the loader's own words
    values: dict = field(default_factory=dict)
    text: str = ""

    def as_json(self, say=None) -> dict:
        message = say(self.key, **self.values) if (say and self.key) else (self.text or self.key)
        return {"field": self.field, "message": message}


class ArticleError(ValueError):
    """The request names no such article or area."""


class ArticleInvalid(ValueError):
    """The form has problems; nothing was written."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.field or 'article'}: {e.text or e.key} {e.values or ''}".strip()
                                   for e in errors))


class StaleArticle(ValueError):
    """The article changed since the form was read."""

    def __init__(self, article_id: str, version: str):
        self.article_id, self.version = article_id, version
        super().__init__(f"{article_id} was changed by somebody else since you opened it")


# ------------------------------------------------------------------ reading

def _plain(value: Any) -> Any:
    """ruamel's commented containers and scalar strings as plain JSON data."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def version_of(item: Any) -> str:
    """The version of an article's stored data (its YAML item)."""
    data = json.dumps(_plain(item), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _yaml():
    from desk.services.trainer import round_trip_yaml
    return round_trip_yaml()


def _area_files(faq_dir: Path) -> list[Path]:
    return sorted(Path(faq_dir).glob("*.yml"))


def _find(faq_dir: Path, article_id: str):
    """(path, text, doc, index) of the article in its file."""
    yaml = _yaml()
    for path in _area_files(faq_dir):
        text = path.read_text(encoding="utf-8")
        doc = yaml.load(text)
        for index, item in enumerate((doc or {}).get("articles") or []):
            if isinstance(item, dict) and item.get("id") == article_id:
                return path, text, doc, index
    raise ArticleError(f"no article {article_id!r}")


def form_of(item: Any, area: str, languages: tuple[str, ...]) -> dict:
    """An article's YAML item as the console's form."""
    data = _plain(item)
    texts = {}
    for lang in languages:
        block = data.get(lang) or {}
        texts[lang] = {
            "title": block.get("title") or "",
            "answer": (block.get("answer") or "").strip(),
            "follow_up": (block.get("follow_up") or "").strip(),
            "buttons": [{"title": b.get("title", ""), "payload": b.get("payload", "")}
                        for b in block.get("buttons") or [] if isinstance(b, dict)],
            **{f: list(block.get(f) or []) for f in LIST_FIELDS},
        }
    return {"id": data.get("id"), "area": area, "human_only": bool(data.get("human_only", False)),
            "texts": texts}


def get_article(article_id: str, faq_dir: Path | str = knowledge.FAQ_DIR) -> dict:
    """The article as a form, with its `version` (to send back with the save)."""
    path, _, doc, index = _find(Path(faq_dir), article_id)
    item = doc["articles"][index]
    languages = knowledge.bot_languages().languages
    return {**form_of(item, path.stem, languages), "version": version_of(item), "file": path.name}


def areas(faq_dir: Path | str = knowledge.FAQ_DIR, locale: str | None = None) -> list[dict]:
    """The areas (files) with their titles in `locale`."""
    found, languages = [], knowledge.bot_languages().languages
    yaml = _yaml()
    for path in _area_files(Path(faq_dir)):
        area = (yaml.load(path.read_text(encoding="utf-8")) or {}).get("area")
        if isinstance(area, dict):
            title = str(area.get(locale or "") or area.get(languages[0]) or path.stem)
        else:
            title = str(area or path.stem)
        found.append({"area": path.stem, "title": title})
    return found


def search(articles: list[knowledge.Article], query: str | None) -> list[knowledge.Article]:
    """The articles whose id, titles, answers or questions (any language) hold every word
    of `query` (folded like duplicate questions are); all when the query is empty."""
    words = knowledge.normalize_question(query or "").split()
    if not words:
        return list(articles)
    found = []
    for a in articles:
        hay = " ".join([a.id.replace("_", " "), a.id] + [a.area] + [x for _, x in a.area_titles] + [
            " ".join((t.title, t.answer, t.follow_up or "", *t.questions, *t.casual_questions, *t.test_questions))
            for t in a.texts])
        hay = knowledge.normalize_question(hay)
        if all(w in hay for w in words):
            found.append(a)
    return found


def listing(faq_dir: Path | str = knowledge.FAQ_DIR, query: str | None = None,
            locale: str | None = None) -> list[dict]:
    """The articles by area (areas in file order), those matching `query`."""
    faq_dir = Path(faq_dir)
    articles = knowledge.load_articles(faq_dir)
    hits = {a.id for a in search(articles, query)}
    result = []
    for area in areas(faq_dir, locale):
        rows = [{"id": a.id, "title": a.text(locale).title, "human_only": a.human_only,
                 "questions": len(a.text(locale).training_questions),
                 "languages": list(a.languages)}
                for a in articles if a.area == area["area"] and a.id in hits]
        result.append({**area, "articles": rows})
    return result


# ------------------------------------------------------------------ checking the form

def derive_id(title: str) -> str:
    """A snake_case id from a title ("Gift wrapping!" → gift_wrapping); "" when the title
    has no Latin letters or digits (a Japanese title: the trainer types the id)."""
    text = unicodedata.normalize("NFKD", title or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    words = re.findall(r"[a-z0-9]+", text)
    slug = "_".join(words)[:ID_MAX].strip("_")
    return slug if slug and slug[0].isalpha() else ""


def _clean_list(value: Any) -> list[str] | None:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return [" ".join(v.split()) for v in value if v.strip()]


def _clean_text(value: Any) -> str | None:
    if value is None:
        return ""
    if not isinstance(value, str):
        return None
    return value.strip()


def clean_form(form: Any, languages: tuple[str, ...]) -> tuple[dict, list[FieldError]]:
    """The form's values trimmed (blank list entries dropped) and the problems of its shape
    and of each field by itself."""
    errors: list[FieldError] = []
    if not isinstance(form, dict):
        return {}, [FieldError("", "articles.err.shape")]
    human_only = form.get("human_only", False)
    if not isinstance(human_only, bool):
        errors.append(FieldError("human_only", "articles.err.boolean"))
        human_only = False
    raw_texts = form.get("texts") if isinstance(form.get("texts"), dict) else {}
    unknown = sorted(set(raw_texts) - set(languages))
    for lang in unknown:
        errors.append(FieldError(lang, "articles.err.language_unknown", {"language": lang,
                                                                          "languages": ", ".join(languages)}))
    texts = {}
    for lang in languages:
        block = raw_texts.get(lang)
        if not isinstance(block, dict):
            errors.append(FieldError(lang, "articles.err.language_missing", {"language": lang}))
            continue
        clean: dict[str, Any] = {}
        for f in TEXT_FIELDS:
            value = _clean_text(block.get(f))
            if value is None:
                errors.append(FieldError(f"{lang}.{f}", "articles.err.text"))
                value = ""
            clean[f] = value
        for f in LIST_FIELDS:
            value = _clean_list(block.get(f))
            if value is None:
                errors.append(FieldError(f"{lang}.{f}", "articles.err.list"))
                value = []
            clean[f] = value
        buttons = []
        raw_buttons = block.get("buttons") or []
        if not isinstance(raw_buttons, list):
            errors.append(FieldError(f"{lang}.buttons", "articles.err.list"))
            raw_buttons = []
        for b in raw_buttons:
            if not isinstance(b, dict):
                errors.append(FieldError(f"{lang}.buttons", "articles.err.list"))
                continue
            title, payload = _clean_text(b.get("title")) or "", _clean_text(b.get("payload")) or ""
            if title or payload:        # an empty row of the form is no button
                buttons.append({"title": title, "payload": payload})
        clean["buttons"] = buttons
        texts[lang] = clean
        errors.extend(_field_errors(lang, clean, human_only))
    return {"human_only": human_only, "texts": texts}, errors


def _field_errors(lang: str, block: dict, human_only: bool) -> list[FieldError]:
    errors = []
    if not block["title"]:
        errors.append(FieldError(f"{lang}.title", "articles.err.required"))
    elif len(block["title"]) > TITLE_MAX:
        errors.append(FieldError(f"{lang}.title", "articles.err.too_long", {"limit": TITLE_MAX}))
    if not block["answer"] and not human_only:
        errors.append(FieldError(f"{lang}.answer", "articles.err.answer_required"))
    limit = knowledge.INTERACTIVE_BODY_LIMIT if block["buttons"] else knowledge.TEXT_LIMIT
    if len(block["answer"]) > limit:
        errors.append(FieldError(f"{lang}.answer", "articles.err.answer_too_long",
                                 {"length": len(block["answer"]), "limit": limit}))
    if len(block["follow_up"]) > knowledge.TEXT_LIMIT:
        errors.append(FieldError(f"{lang}.follow_up", "articles.err.too_long", {"limit": knowledge.TEXT_LIMIT}))
    for f, (low, high) in COUNTS.items():
        n = len(block[f])
        if not low <= n <= high:
            errors.append(FieldError(f"{lang}.{f}", "articles.err.count", {"count": n, "min": low, "max": high}))
        for i, text in enumerate(block[f]):
            bad = sorted(knowledge._RESERVED_CHARS & set(text))
            if bad:
                errors.append(FieldError(f"{lang}.{f}.{i}", "articles.err.reserved",
                                         {"text": text, "chars": " ".join(bad)}))
    if len(block["buttons"]) > knowledge.MAX_BUTTONS:
        errors.append(FieldError(f"{lang}.buttons", "articles.err.buttons_max", {"max": knowledge.MAX_BUTTONS}))
    for i, b in enumerate(block["buttons"]):
        if not b["title"]:
            errors.append(FieldError(f"{lang}.buttons.{i}.title", "articles.err.required"))
        elif len(b["title"]) > knowledge.BUTTON_TITLE_LIMIT:
            errors.append(FieldError(f"{lang}.buttons.{i}.title", "articles.err.button_title",
                                     {"length": len(b["title"]), "limit": knowledge.BUTTON_TITLE_LIMIT}))
        if not b["payload"]:
            errors.append(FieldError(f"{lang}.buttons.{i}.payload", "articles.err.required"))
    return errors


def _duplicates(article_id: str, form: dict, others: list[knowledge.Article]) -> list[FieldError]:
    """Questions said twice: in this form, or in another article (training or held out)."""
    seen: dict[str, str] = {}
    for a in others:
        if a.id == article_id:
            continue
        for t in a.texts:
            for f in LIST_FIELDS:
                for text in getattr(t, f):
                    seen.setdefault(knowledge.normalize_question(text), f"{a.id} ({t.language}, {f})")
    errors, mine = [], {}
    for lang, block in form["texts"].items():
        for f in LIST_FIELDS:
            for i, text in enumerate(block[f]):
                key, here = knowledge.normalize_question(text), f"{lang}.{f}.{i}"
                if key in seen:
                    errors.append(FieldError(here, "articles.err.duplicate_other", {"text": text, "where": seen[key]}))
                elif key in mine:
                    errors.append(FieldError(here, "articles.err.duplicate_here", {"text": text, "where": mine[key]}))
                else:
                    mine[key] = f"{lang}, {f} {i + 1}"
    return errors


def _current(faq_dir: Path, article_id: str) -> list[knowledge.Article]:
    """The knowledge as it is; its problems (a broken file) refuse the save in the loader's words."""
    try:
        return knowledge.load_articles(faq_dir)
    except knowledge.KnowledgeError as exc:
        raise ArticleInvalid(_loader_errors(exc.problems, article_id)) from None


def _loader_errors(problems: list[str], article_id: str) -> list[FieldError]:
    """The loader's problems (its own words) with the field they name, when they name one."""
    errors = []
    for problem in problems:
        m = _LANG_IN_PROBLEM.search(problem)
        where = ""
        if m and m.group(1) == article_id:
            where = f"{m.group(2)}.{m.group(3)}" if m.group(3) in BLOCK_ORDER else m.group(2)
        errors.append(FieldError(where, "", text=problem))
    return errors


# ------------------------------------------------------------------ writing

def _lock_path(faq_dir: Path) -> Path:
    digest = hashlib.sha256(str(Path(faq_dir).resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"tsunagi-knowledge-{digest}.lock"


@contextmanager
def knowledge_lock(faq_dir: Path | str) -> Iterator[None]:
    """One writer at a time for a knowledge directory, across processes (the lock file
    lives in the temporary directory, never in the repository)."""
    from filelock import FileLock

    with FileLock(str(_lock_path(Path(faq_dir))), timeout=30):
        yield


def _scalar(old: Any, text: str):
    """`text` in the style of the value it replaces: an answer written folded (`>-`) stays
    folded; a text with line breaks is a literal block."""
    from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

    if "\n" in text:
        return LiteralScalarString(text)
    if isinstance(old, FoldedScalarString) or (old is None and len(text) > 60):
        return FoldedScalarString(text)
    return text


def _set(block, key: str, value: Any) -> None:
    """Set `key` in a language block, a new key at its place in BLOCK_ORDER."""
    if key in block:
        block[key] = value
        return
    order = BLOCK_ORDER.index(key) if key in BLOCK_ORDER else len(BLOCK_ORDER)
    position = 0
    for i, existing in enumerate(block):
        if existing in BLOCK_ORDER and BLOCK_ORDER.index(existing) < order:
            position = i + 1
    block.insert(position, key, value)


def _set_seq(block, key: str, values: list) -> None:
    """The list `key` becomes `values`, changed in place so its comments stay."""
    from ruamel.yaml.comments import CommentedSeq

    if not values:
        block.pop(key, None)
        return
    seq = block.get(key)
    if not isinstance(seq, CommentedSeq):
        _set(block, key, CommentedSeq(values))
        return
    for i, v in enumerate(values[:len(seq)]):
        if seq[i] != v:
            seq[i] = v
    del seq[len(values):]
    seq.extend(values[len(seq):])


def _set_buttons(block, buttons: list[dict]) -> None:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if not buttons:
        block.pop("buttons", None)
        return
    seq = block.get("buttons")
    if not isinstance(seq, CommentedSeq):
        seq = CommentedSeq()
        _set(block, "buttons", seq)
    for i, b in enumerate(buttons):
        if i < len(seq) and isinstance(seq[i], dict):
            for k in ("title", "payload"):
                if seq[i].get(k) != b[k]:
                    seq[i][k] = b[k]
        else:
            item = CommentedMap([("title", b["title"]), ("payload", b["payload"])])
            if i < len(seq):
                seq[i] = item
            else:
                seq.append(item)
    del seq[len(buttons):]


def apply_form(item, form: dict, languages: tuple[str, ...]) -> None:
    """Write a cleaned form into an article's YAML item (a ruamel CommentedMap)."""
    from ruamel.yaml.comments import CommentedMap

    if "human_only" in item or form["human_only"]:
        if "human_only" in item:
            item["human_only"] = form["human_only"]
        else:
            item.insert(1, "human_only", form["human_only"])
    for lang in languages:
        values = form["texts"][lang]
        block = item.get(lang)
        if not isinstance(block, CommentedMap):
            block = CommentedMap()
            item[lang] = block
        if block.get("title") != values["title"]:
            _set(block, "title", values["title"])
        for key in ("answer", "follow_up"):
            text = values[key]
            if not text:
                block.pop(key, None)
            elif str(block.get(key) or "").strip() != text:
                _set(block, key, _scalar(block.get(key), text))
        _set_buttons(block, values["buttons"])
        for key in LIST_FIELDS:
            _set_seq(block, key, values[key])


def _dump(doc) -> str:
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


def _check_candidate(faq_dir: Path, path: Path, text: str, article_id: str) -> None:
    """Run the training's loader on the knowledge as it would be with `path` holding
    `text`, in a scratch directory (the real file untouched)."""
    with tempfile.TemporaryDirectory(prefix="tsunagi-article-") as scratch:
        for other in _area_files(faq_dir):
            if other.name != path.name:
                os.symlink(other.resolve(), Path(scratch) / other.name)
        (Path(scratch) / path.name).write_text(text, encoding="utf-8")
        try:
            knowledge.load_articles(scratch)
        except knowledge.KnowledgeError as exc:
            raise ArticleInvalid(_loader_errors(exc.problems, article_id)) from None


def _replace(path: Path, text: str) -> None:
    """Write the file atomically (a reader sees the old or the new file, never half)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_article(article_id: str, form: Any, version: str | None,
                 faq_dir: Path | str = knowledge.FAQ_DIR) -> dict:
    """Save the console's form of an existing article. `version`: the one the form was
    read at. Raises ArticleError (no such article), StaleArticle, ArticleInvalid (the
    file untouched). Returns the article as saved (get_article)."""
    faq_dir = Path(faq_dir)
    languages = knowledge.bot_languages().languages
    with knowledge_lock(faq_dir):
        path, _, doc, index = _find(faq_dir, article_id)
        item = doc["articles"][index]
        current = version_of(item)
        if not version or version != current:
            raise StaleArticle(article_id, current)
        clean, errors = clean_form(form, languages)
        if clean:
            errors += _duplicates(article_id, clean, _current(faq_dir, article_id))
        if errors:
            raise ArticleInvalid(errors)
        apply_form(item, clean, languages)
        text = _dump(doc)
        _check_candidate(faq_dir, path, text, article_id)
        _replace(path, text)
    return get_article(article_id, faq_dir)


def create_article(area: str, article_id: str | None, form: Any,
                   faq_dir: Path | str = knowledge.FAQ_DIR) -> dict:
    """Append a new article to the area's file. The id: `article_id`, else derived from the
    default language's title; snake_case and unique across every file."""
    from ruamel.yaml.comments import CommentedMap

    faq_dir = Path(faq_dir)
    languages = knowledge.bot_languages().languages
    path = faq_dir / f"{area}.yml"
    if not re.fullmatch(r"[a-z0-9_]+", area or "") or not path.exists():
        raise ArticleInvalid([FieldError("area", "articles.err.area_unknown", {"area": area or ""})])
    with knowledge_lock(faq_dir):
        clean, errors = clean_form(form, languages)
        default_title = (clean.get("texts", {}).get(languages[0]) or {}).get("title", "")
        article_id = (article_id or "").strip() or derive_id(default_title)
        existing = _current(faq_dir, article_id)
        if not article_id:
            errors.insert(0, FieldError("id", "articles.err.id_required"))
        elif len(article_id) > ID_MAX or not knowledge._ID.match(article_id):
            errors.insert(0, FieldError("id", "articles.err.id_format", {"id": article_id}))
        elif any(a.id == article_id for a in existing):
            errors.insert(0, FieldError("id", "articles.err.id_taken", {"id": article_id}))
        if clean:
            errors += _duplicates(article_id, clean, existing)
        if errors:
            raise ArticleInvalid(errors)
        yaml = _yaml()
        doc = yaml.load(path.read_text(encoding="utf-8"))
        item = CommentedMap([("id", article_id), ("human_only", clean["human_only"])])
        apply_form(item, clean, languages)
        doc["articles"].append(item)
        text = _dump(doc)
        _check_candidate(faq_dir, path, text, article_id)
        _replace(path, text)
    return get_article(article_id, faq_dir)


def blank_form(languages: tuple[str, ...] | None = None, *, area: str = "",
               questions: list[str] | None = None) -> dict:
    """A new article's form; `questions` (a miss group's) go to the block of their language."""
    from desk.services.trainer import question_language

    languages = languages or knowledge.bot_languages().languages
    texts = {lang: {"title": "", "answer": "", "follow_up": "", "buttons": [],
                    **{f: [] for f in LIST_FIELDS}} for lang in languages}
    for q in questions or []:
        q = " ".join(str(q).split())
        if q:
            block = texts[question_language(q, languages)]
            if q not in block["questions"]:
                block["questions"].append(q)
    return {"id": "", "area": area, "human_only": False, "texts": texts}
