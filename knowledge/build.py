"""Generate the bot's FAQ training data from knowledge/faq/*.yml.

    python -m knowledge.build           # write the generated files
    python -m knowledge.build --check   # exit 1 if any of them is out of date
    python -m knowledge.build --faq DIR --root DIR   # other articles, written under another root
                                                     # (a training run of the console: desk.services.bot_models)

Writes (all committed: CI trains from data/):
  data/nlu/faq.yml          retrieval intent faq/<id>, the `questions` and `casual_questions`
                            of every language
  data/responses_faq.yml    utter_faq/<id>: one variation per language, conditioned on the
                            slot `language`, and an unconditioned one in the default
                            language (while the slot is still empty)
  tests/nlu/faq_test.yml    faq/<id>, the held-out `test_questions` (never trained on) of
                            the default language; tests/nlu_<lang>/faq_test.yml of the others
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable, Iterable

from knowledge import Article, ArticleText, KnowledgeError, bot_languages, load_articles

ROOT = Path(__file__).resolve().parent.parent
NLU_FILE = Path("data/nlu/faq.yml")
RESPONSES_FILE = Path("data/responses_faq.yml")
TEST_FILE = Path("tests/nlu/faq_test.yml")
LANGUAGE_SLOT = "language"


def held_out_dir(language: str) -> Path:
    """Where a language's held-out NLU examples live: tests/nlu/ for the default
    language (as before there were languages), tests/nlu_<lang>/ for the others."""
    return Path("tests/nlu") if language == bot_languages().default else Path(f"tests/nlu_{language}")


def test_file(language: str) -> Path:
    return held_out_dir(language) / "faq_test.yml"
HEADER = ("# generated from knowledge/ — edit there, then run: python -m knowledge.build\n"
          "# (tests/bot/test_knowledge.py fails when this file is out of date)\n")


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _examples(articles: Iterable[Article], texts: Callable[[Article], Iterable[str]], what: str) -> str:
    lines = [HEADER, f"# {what}\n", 'version: "3.1"\n', "nlu:\n"]
    for a in articles:
        lines.append(f"- intent: {a.intent}\n  examples: |\n")
        lines.extend(f"    - {text}\n" for text in texts(a))
    return "".join(lines)


def render_nlu(articles: list[Article]) -> str:
    return _examples(articles, lambda a: [q for t in a.texts for q in t.training_questions],
                     "FAQ training examples (retrieval intent faq) of every language: "
                     "questions, then casual_questions")


def render_test(articles: list[Article], language: str | None = None) -> str:
    language = language or bot_languages().default
    return _examples(articles, lambda a: a.text(language).test_questions,
                     f"held-out FAQ questions ({language}): evaluation only, never trained on")


def _variation(text: ArticleText, condition: str | None) -> list[str]:
    lines = [f"  - text: {_q(text.answer)}\n"]
    if text.buttons:
        lines.append("    buttons:\n")
        for b in text.buttons:
            lines.append(f"    - title: {_q(b.title)}\n      payload: {_q(b.payload)}\n")
    if condition:
        lines.append(f"    condition:\n    - type: slot\n      name: {LANGUAGE_SLOT}\n"
                     f"      value: {condition}\n")
    return lines


def render_responses(articles: list[Article]) -> str:
    lines = [HEADER, "# FAQ answers, chosen by the ResponseSelector for intent faq: one variation per\n"
             f"# language (condition: slot {LANGUAGE_SLOT}), then the default language's without a\n"
             "# condition, for a conversation whose language is not known yet\n",
             'version: "3.1"\n', "responses:\n"]
    for a in articles:
        flag = "  # human_only: a colleague takes over" if a.human_only else ""
        lines.append(f"  {a.response}:{flag}\n")
        for text in a.texts:
            lines.extend(_variation(text, text.language))
        lines.extend(_variation(a.default, None))
    return "".join(lines)


def expected_files(articles: list[Article] | None = None) -> dict[Path, str]:
    """Relative path → the content it must have."""
    articles = load_articles() if articles is None else articles
    files = {NLU_FILE: render_nlu(articles), RESPONSES_FILE: render_responses(articles)}
    for language in (articles[0].languages if articles else bot_languages().languages):
        files[test_file(language)] = render_test(articles, language)
    return files


def stale_files(root: Path = ROOT, articles: list[Article] | None = None) -> list[Path]:
    stale = []
    for rel, content in expected_files(articles).items():
        path = root / rel
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            stale.append(rel)
    return stale


def write(root: Path = ROOT, articles: list[Article] | None = None) -> list[Path]:
    """Write the files that changed; returns them."""
    changed = []
    for rel, content in expected_files(articles).items():
        path = root / rel
        if path.exists() and path.read_text(encoding="utf-8") == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        changed.append(rel)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1)")
    parser.add_argument("--faq", type=Path, help="the articles' directory (default knowledge/faq)")
    parser.add_argument("--root", type=Path, default=ROOT, help="write the files under this directory")
    args = parser.parse_args(argv)
    try:
        articles = load_articles(args.faq) if args.faq else load_articles()
    except KnowledgeError as exc:
        print(exc, file=sys.stderr)
        return 2
    human = sum(a.human_only for a in articles)
    per_language = []
    for language in (articles[0].languages if articles else ()):
        texts = [a.text(language) for a in articles]
        per_language.append(f"{language}: {sum(len(t.training_questions) for t in texts)} training "
                            f"({sum(len(t.casual_questions) for t in texts)} casual) and "
                            f"{sum(len(t.test_questions) for t in texts)} held-out questions")
    summary = f"{len(articles)} articles ({human} human-only); " + "; ".join(per_language)
    if args.check:
        stale = stale_files(args.root, articles=articles)
        if stale:
            print("knowledge: out of date, run `python -m knowledge.build`: "
                  + ", ".join(map(str, stale)), file=sys.stderr)
            return 1
        print(f"knowledge: generated files up to date; {summary}")
        return 0
    changed = write(args.root, articles=articles)
    print(f"knowledge: {summary}; " + (f"wrote {', '.join(map(str, changed))}" if changed
                                        else "nothing changed"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
