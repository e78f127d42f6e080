"""The FAQ knowledge base: the one source of the bot's answers and the console's articles.

Articles live in `knowledge/faq/<area>.yml` (one file per area), one block per
language (`knowledge/languages.yml` says which the bot speaks)::

    area: {en: Shipping and delivery, ja: 配送}   # shown to operators (or one string)
    articles:
      - id: shipping_time                # snake_case, unique across all files
        human_only: false                # true: a person should handle it
        en:
          title: Delivery times
          answer: >-                     # WhatsApp formatting: *bold*, _italic_
            Orders ship the same day ...
          buttons:                       # optional, at most 10, titles <= 20 chars
            - {title: Get a quote, payload: /sales_inquiry}
          questions: [...]               # 10-15 training variants
          casual_questions: [...]        # optional, up to 15 more: WhatsApp-style writing
          follow_up: >-                  # optional: the answer to "so what now?" after this one
          test_questions: [...]          # 3-5 held-out variants (tests/nlu only)
        ja:
          title: お届け日数
          ...

`load_articles()` reads and validates every file and raises `KnowledgeError` with
every problem found (file, article, language, what is wrong); an article without a
block for one of the bot's languages is refused. `article.text(lang)` is an
article's block in a language (the default language's when it has none);
`article.title`, `.answer`, `.questions`... are the default language's.
`python -m knowledge.build` turns the articles into the bot's training data
(see knowledge/build.py).
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import yaml

FAQ_DIR = Path(__file__).resolve().parent / "faq"
LANGUAGES_FILE = Path(__file__).resolve().parent / "languages.yml"

MIN_QUESTIONS, MAX_QUESTIONS = 10, 15
MIN_TEST_QUESTIONS, MAX_TEST_QUESTIONS = 3, 5
MAX_CASUAL_QUESTIONS = 15   # lower case, typos, "u", "pls": how people type on WhatsApp
MAX_BUTTONS = 10            # WhatsApp: up to 3 reply buttons, or a list of up to 10 rows
BUTTON_TITLE_LIMIT = 20     # WhatsApp reply-button title limit
TEXT_LIMIT = 4096           # WhatsApp text body
INTERACTIVE_BODY_LIMIT = 1024  # body of a message with buttons
# The answer of a human_only article that gives none, per language.
HANDOVER_ANSWERS = {
    "en": ("That's something a colleague from our team will handle personally. "
           "Someone will reply here shortly."),
    "ja": "こちらは担当のスタッフが直接対応いたします。まもなくこちらでご返信しますので、少々お待ちください。",
}
HANDOVER_ANSWER = HANDOVER_ANSWERS["en"]

_ID = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_ARTICLE_KEYS = {"id", "human_only"}   # plus one block per language
_TEXT_KEYS = {"title", "answer", "buttons", "questions", "casual_questions", "test_questions",
              "follow_up"}
_FILE_KEYS = {"area", "articles"}
# Rasa's training-data syntax gives these a meaning ([text](entity), {"entity": ...}).
_RESERVED_CHARS = set("[]{}")


class KnowledgeError(ValueError):
    """The knowledge base is invalid; `problems` lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid knowledge base:\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class Languages:
    """The languages the bot answers in (knowledge/languages.yml), the default first."""

    languages: tuple[str, ...]
    default: str


@functools.lru_cache(maxsize=4)
def _read_languages(path: Path) -> Languages:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError([f"{path.name}: cannot be read: {exc}"]) from None
    langs, default = doc.get("languages"), doc.get("default")
    if (not isinstance(langs, list) or not langs
            or not all(isinstance(x, str) and _LANGUAGE.match(x) for x in langs)):
        raise KnowledgeError([f"{path.name}: 'languages' must be a list of ISO 639-1 codes (got {langs!r})"])
    if default not in langs:
        raise KnowledgeError([f"{path.name}: 'default' must be one of {langs} (got {default!r})"])
    return Languages(tuple([default] + [x for x in langs if x != default]), default)


def bot_languages(path: Path | str = LANGUAGES_FILE) -> Languages:
    """The bot's languages, the default one first."""
    return _read_languages(Path(path))


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class ArticleText:
    """An article in one language: its answer and the ways users ask for it."""

    language: str
    title: str
    answer: str
    questions: tuple[str, ...]
    test_questions: tuple[str, ...]
    buttons: tuple[Button, ...] = ()
    casual_questions: tuple[str, ...] = ()
    follow_up: str | None = None   # what happens next, for "so what now?" after this answer

    @property
    def training_questions(self) -> tuple[str, ...]:
        """Everything trained on: the questions, then their casual WhatsApp-style variants."""
        return self.questions + self.casual_questions


@dataclass(frozen=True)
class Article:
    """One FAQ topic, in every language of the bot (`texts`, the default language first).

    The text attributes (`title`, `answer`, `questions`, ...) are the default
    language's; `text(lang)` gives another language's block."""

    id: str
    area: str          # the file's stem, e.g. "shipping"
    area_titles: tuple[tuple[str, str], ...]   # (language, e.g. "Shipping and delivery")
    human_only: bool
    texts: tuple[ArticleText, ...]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(t.language for t in self.texts)

    @property
    def default(self) -> ArticleText:
        return self.texts[0]

    def text(self, language: str | None = None) -> ArticleText:
        """The article in `language`; the default language's when it has none (or None)."""
        return next((t for t in self.texts if t.language == language), self.texts[0])

    def follow_up_in(self, language: str | None = None) -> str | None:
        return self.text(language).follow_up

    def answer_in(self, language: str | None = None) -> str:
        return self.text(language).answer

    def area_title_in(self, language: str | None = None) -> str:
        titles = dict(self.area_titles)
        return titles.get(language or "", self.area_titles[0][1])

    @property
    def area_title(self) -> str:
        return self.area_titles[0][1]

    @property
    def title(self) -> str:
        return self.default.title

    @property
    def answer(self) -> str:
        return self.default.answer

    @property
    def questions(self) -> tuple[str, ...]:
        return self.default.questions

    @property
    def test_questions(self) -> tuple[str, ...]:
        return self.default.test_questions

    @property
    def casual_questions(self) -> tuple[str, ...]:
        return self.default.casual_questions

    @property
    def buttons(self) -> tuple[Button, ...]:
        return self.default.buttons

    @property
    def follow_up(self) -> str | None:
        return self.default.follow_up

    @property
    def training_questions(self) -> tuple[str, ...]:
        """The default language's training questions (`text(lang)` for another's)."""
        return self.default.training_questions

    @property
    def intent(self) -> str:
        """The retrieval intent the NLU predicts for this article."""
        return f"faq/{self.id}"

    @property
    def response(self) -> str:
        return f"utter_faq/{self.id}"


def normalize_question(text: str) -> str:
    """Case, width, accents, punctuation and spacing folded: how duplicates are detected."""
    text = unicodedata.normalize("NFKC", text)
    text = unicodedata.normalize("NFKD", text).casefold()
    text = "".join(ch for ch in text if not unicodedata.combining(ch) or ch in "\u3099\u309a")
    text = text.replace("’", "'")
    text = re.sub(r"[^\w'\u3099\u309a ]+", " ", text)
    return " ".join(text.split())


def load_articles(directory: Path | str = FAQ_DIR,
                  languages: Iterable[str] | None = None) -> list[Article]:
    """Every article of every `*.yml` in `directory`, validated, in file then list order.

    `languages`: those every article must have (default: knowledge/languages.yml's),
    the first one the default."""
    directory = Path(directory)
    if languages is None:
        languages = bot_languages().languages
    languages = tuple(languages)
    problems: list[str] = []
    articles: list[Article] = []
    files = sorted(directory.glob("*.yml"))
    if not files:
        raise KnowledgeError([f"{directory}: no *.yml files"])
    for path in files:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(f"{path.name}: not valid YAML: {exc}")
            continue
        articles.extend(_parse_file(path, doc, languages, problems))
    problems.extend(_cross_checks(articles))
    if problems:
        raise KnowledgeError(problems)
    return articles


def articles_by_id(articles: Iterable[Article] | None = None) -> dict[str, Article]:
    return {a.id: a for a in (load_articles() if articles is None else articles)}


def _parse_file(path: Path, doc: Any, languages: tuple[str, ...], problems: list[str]) -> list[Article]:
    where = path.name
    if not isinstance(doc, dict):
        problems.append(f"{where}: expected a mapping with 'area' and 'articles'")
        return []
    for key in sorted(set(doc) - _FILE_KEYS):
        problems.append(f"{where}: unknown key {key!r} (allowed: {', '.join(sorted(_FILE_KEYS))})")
    area = doc.get("area")
    if isinstance(area, str) and area.strip():
        area_titles = tuple((lang, area.strip()) for lang in languages)
    elif isinstance(area, dict) and all(isinstance(v, str) and v.strip() for v in area.values()):
        area_titles = tuple((lang, str(area.get(lang) or next(iter(area.values()))).strip())
                            for lang in languages)
    else:
        problems.append(f"{where}: 'area' must be a non-empty title (or one per language)")
        area_titles = tuple((lang, path.stem) for lang in languages)
    raw = doc.get("articles")
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}: 'articles' must be a non-empty list")
        return []
    result = []
    for index, item in enumerate(raw):
        article = _parse_article(path.stem, area_titles, f"{where}[{index}]", item, languages, problems)
        if article is not None:
            result.append(article)
    return result


def _texts(value: Any, field: str, where: str, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{where}: '{field}' must be a list of non-empty strings")
        return ()
    texts = tuple(" ".join(v.split()) for v in value)
    for text in texts:
        if _RESERVED_CHARS & set(text):
            problems.append(f"{where}: {field} {text!r} contains one of [ ] {{ }} (Rasa annotation syntax)")
    return texts


def _parse_article(area: str, area_titles: tuple[tuple[str, str], ...], where: str, item: Any,
                   languages: tuple[str, ...], problems: list[str]) -> Article | None:
    if not isinstance(item, dict):
        problems.append(f"{where}: an article must be a mapping")
        return None
    article_id = item.get("id")
    if not isinstance(article_id, str) or not _ID.match(article_id):
        problems.append(f"{where}: 'id' must be snake_case (got {article_id!r})")
        return None
    where = f"{where} ({article_id})"
    for key in sorted(set(item) - _ARTICLE_KEYS):
        if key in _TEXT_KEYS:
            problems.append(f"{where}: {key!r} belongs in a language block "
                            f"({', '.join(f'{x}:' for x in languages)})")
        elif not (isinstance(key, str) and _LANGUAGE.match(key)):
            problems.append(f"{where}: unknown key {key!r} (allowed: "
                            f"{', '.join(sorted(_ARTICLE_KEYS))} and a block per language)")
    human_only = item.get("human_only", False)
    if not isinstance(human_only, bool):
        problems.append(f"{where}: 'human_only' must be true or false")
        human_only = False
    texts = []
    for lang in languages:
        block = item.get(lang)
        if block is None:
            problems.append(f"{where}: no {lang!r} block; the bot speaks {', '.join(languages)} "
                            f"(knowledge/languages.yml), so every article needs each")
            continue
        text = _parse_text(lang, f"{where} [{lang}]", block, human_only, problems)
        if text is not None:
            texts.append(text)
    if len(texts) != len(languages):
        return None
    return Article(id=article_id, area=area, area_titles=area_titles, human_only=human_only,
                   texts=tuple(texts))


def _parse_text(lang: str, where: str, item: Any, human_only: bool,
                problems: list[str]) -> ArticleText | None:
    if not isinstance(item, dict):
        problems.append(f"{where}: a language block must be a mapping")
        return None
    for key in sorted(set(item) - _TEXT_KEYS):
        problems.append(f"{where}: unknown key {key!r} (allowed: {', '.join(sorted(_TEXT_KEYS))})")
    title = item.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(f"{where}: 'title' must be a non-empty string")
        title = "?"
    answer = item.get("answer")
    if answer is None and human_only:
        answer = HANDOVER_ANSWERS.get(lang)
    if not isinstance(answer, str) or not answer.strip():
        problems.append(f"{where}: 'answer' must be a non-empty string")
        answer = ""
    answer = answer.strip()

    buttons: list[Button] = []
    raw_buttons = item.get("buttons") or []
    if not isinstance(raw_buttons, list):
        problems.append(f"{where}: 'buttons' must be a list")
        raw_buttons = []
    for b in raw_buttons:
        if not (isinstance(b, dict) and set(b) == {"title", "payload"}
                and all(isinstance(b[k], str) and b[k].strip() for k in b)):
            problems.append(f"{where}: each button needs a 'title' and a 'payload' (got {b!r})")
            continue
        if len(b["title"]) > BUTTON_TITLE_LIMIT:
            problems.append(f"{where}: button title {b['title']!r} is longer than "
                            f"{BUTTON_TITLE_LIMIT} characters (WhatsApp's limit)")
        buttons.append(Button(b["title"].strip(), b["payload"].strip()))
    if len(buttons) > MAX_BUTTONS:
        problems.append(f"{where}: {len(buttons)} buttons; WhatsApp shows at most {MAX_BUTTONS}")
    limit = INTERACTIVE_BODY_LIMIT if buttons else TEXT_LIMIT
    if len(answer) > limit:
        problems.append(f"{where}: answer is {len(answer)} characters; the limit is {limit}")

    questions = _texts(item.get("questions"), "questions", where, problems)
    tests = _texts(item.get("test_questions"), "test_questions", where, problems)
    follow_up = item.get("follow_up")
    if follow_up is not None and (not isinstance(follow_up, str) or not follow_up.strip()
                                  or len(follow_up) > TEXT_LIMIT):
        problems.append(f"{where}: 'follow_up' must be a non-empty text of at most {TEXT_LIMIT} characters")
        follow_up = None
    casual = _texts(item.get("casual_questions") or [], "casual_questions", where, problems)
    if len(casual) > MAX_CASUAL_QUESTIONS:
        problems.append(f"{where}: {len(casual)} casual_questions; give at most {MAX_CASUAL_QUESTIONS}")
    if questions and not MIN_QUESTIONS <= len(questions) <= MAX_QUESTIONS:
        problems.append(f"{where}: {len(questions)} questions; "
                        f"give {MIN_QUESTIONS}-{MAX_QUESTIONS} training variants")
    if tests and not MIN_TEST_QUESTIONS <= len(tests) <= MAX_TEST_QUESTIONS:
        problems.append(f"{where}: {len(tests)} test_questions; "
                        f"give {MIN_TEST_QUESTIONS}-{MAX_TEST_QUESTIONS} held-out variants")
    return ArticleText(language=lang, title=title.strip(), answer=answer, questions=questions,
                       test_questions=tests, buttons=tuple(buttons), casual_questions=casual,
                       follow_up=follow_up.strip() if follow_up else None)


def _cross_checks(articles: list[Article]) -> list[str]:
    """Ids unique; no question variant twice anywhere (training or held out)."""
    problems = []
    seen_ids: dict[str, str] = {}
    for a in articles:
        if a.id in seen_ids:
            problems.append(f"duplicate article id {a.id!r} (in {seen_ids[a.id]}.yml and {a.area}.yml)")
        seen_ids.setdefault(a.id, a.area)
    seen: dict[str, str] = {}
    for a in articles:
        for t in a.texts:
            for field, texts in (("questions", t.questions), ("casual_questions", t.casual_questions),
                                 ("test_questions", t.test_questions)):
                for text in texts:
                    key, here = normalize_question(text), f"{a.id}.{t.language}.{field}"
                    if key in seen:
                        problems.append(f"duplicate question {text!r}: in {here} and {seen[key]}")
                    else:
                        seen[key] = here
    return problems
