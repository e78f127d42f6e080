"""Generate the bot's FAQ training data from knowledge/faq/*.yml.

    python -m knowledge.build           # write the generated files
    python -m knowledge.build --check   # exit 1 if any of them is out of date

Writes (all committed: CI trains from data/):
  data/nlu/faq.yml          retrieval intent faq/<id>, the `questions` and `casual_questions`
  data/responses_faq.yml    utter_faq/<id>, the `answer` (and buttons)
  tests/nlu/faq_test.yml    faq/<id>, the held-out `test_questions` (never trained on)
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Iterable

from knowledge import Article, KnowledgeError, load_articles

ROOT = Path(__file__).resolve().parent.parent
NLU_FILE = Path("data/nlu/faq.yml")
RESPONSES_FILE = Path("data/responses_faq.yml")
TEST_FILE = Path("tests/nlu/faq_test.yml")
HEADER = ("# generated from knowledge/ — edit there, then run: python -m knowledge.build\n"
          "# (tests/bot/test_knowledge.py fails when this file is out of date)\n")


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _examples(articles: Iterable[Article], field: str, what: str) -> str:
    lines = [HEADER, f"# {what}\n", 'version: "3.1"\n', "nlu:\n"]
    for a in articles:
        lines.append(f"- intent: {a.intent}\n  examples: |\n")
        lines.extend(f"    - {text}\n" for text in getattr(a, field))
    return "".join(lines)


def render_nlu(articles: list[Article]) -> str:
    return _examples(articles, "training_questions",
                     "FAQ training examples (retrieval intent faq): questions, then casual_questions")


def render_test(articles: list[Article]) -> str:
    return _examples(articles, "test_questions",
                     "held-out FAQ questions: evaluation only, never trained on")


def render_responses(articles: list[Article]) -> str:
    lines = [HEADER, "# FAQ answers, chosen by the ResponseSelector for intent faq\n",
             'version: "3.1"\n', "responses:\n"]
    for a in articles:
        flag = "  # human_only: a colleague takes over" if a.human_only else ""
        lines.append(f"  {a.response}:{flag}\n")
        lines.append(f"  - text: {_q(a.answer)}\n")
        if a.buttons:
            lines.append("    buttons:\n")
            for b in a.buttons:
                lines.append(f"    - title: {_q(b.title)}\n      payload: {_q(b.payload)}\n")
    return "".join(lines)


def expected_files(articles: list[Article] | None = None) -> dict[Path, str]:
    """Relative path → the content it must have."""
    articles = load_articles() if articles is None else articles
    return {NLU_FILE: render_nlu(articles), RESPONSES_FILE: render_responses(articles),
            TEST_FILE: render_test(articles)}


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
    args = parser.parse_args(argv)
    try:
        articles = load_articles()
    except KnowledgeError as exc:
        print(exc, file=sys.stderr)
        return 2
    human = sum(a.human_only for a in articles)
    summary = (f"{len(articles)} articles ({human} human-only), "
               f"{sum(len(a.training_questions) for a in articles)} training "
               f"({sum(len(a.casual_questions) for a in articles)} casual) and "
               f"{sum(len(a.test_questions) for a in articles)} held-out questions")
    if args.check:
        stale = stale_files(articles=articles)
        if stale:
            print("knowledge: out of date, run `python -m knowledge.build`: "
                  + ", ".join(map(str, stale)), file=sys.stderr)
            return 1
        print(f"knowledge: generated files up to date; {summary}")
        return 0
    changed = write(articles=articles)
    print(f"knowledge: {summary}; " + (f"wrote {', '.join(map(str, changed))}" if changed
                                        else "nothing changed"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
