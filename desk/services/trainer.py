"""The trainer's inbox: what the bot missed, grouped, and what the trainer does about it.

Misses are recorded by the bot (desk.services.bot_misses: a misunderstanding, a
question below the confidence threshold, an unsure intent the bot went on with, an
answer called wrong, a person asked for right after an answer), each with its kind:
a group counts its kinds, which the console shows as its reasons. Near-duplicates are
grouped (the same words after folding case, accents, punctuation and spacing, or a
close spelling: difflib ratio >= GROUP_RATIO), with a count and the newest examples.
For a group the trainer can

- add it as a question of an existing FAQ article (the bot's guess preselected):
  written back to `knowledge/faq/<area>.yml`, the versioned source of truth, into
  the block of the question's language (desk.language.detect; the bot's default
  language when it cannot tell), with the file's comments and layout kept (ruamel
  round trip), and checked by the same loader the bot's training uses: a problem (a
  duplicate, a full article) is refused with the loader's words and the file is left
  as it was;
- mark it out of scope (the bot is right not to answer).

The misses of a brand are those of its numbers. The knowledge base itself is one for
the deployment (one bot): a variant added by any brand's trainer teaches the bot for all.
Retraining is the console's Train and Publish (desk.services.bot_models), or `make train`.
"""
from __future__ import annotations

import difflib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

import knowledge
from desk.models import BotMiss, utcnow
from desk.services.routing import numbers_of_brand

GROUP_RATIO = 0.85
EXAMPLES = 3
RESOLUTIONS = ("variant", "out_of_scope")


class TrainerError(ValueError):
    """The change cannot be made; the message says why (the knowledge loader's words)."""


def fold(text: str) -> str:
    """The words of a question without case, accents, punctuation or extra spaces."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


@dataclass
class MissGroup:
    key: str
    ids: list[int] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)
    guess: str | None = None            # the bot's most frequent guess (article id)
    guess_confidence: float | None = None
    newest_at: object = None

    def as_json(self) -> dict:
        return {"key": self.key, "count": len(self.ids), "ids": self.ids, "examples": self.examples,
                "kinds": self.kinds, "guess": self.guess, "guess_confidence": self.guess_confidence,
                "newest_at": self.newest_at.isoformat() if self.newest_at else None}


async def open_groups(session: AsyncSession, brand_id: int, limit: int = 500) -> list[MissGroup]:
    """The brand's open misses, near-duplicates together, the largest group first."""
    misses = (await session.execute(select(BotMiss).where(
        BotMiss.state == "open", BotMiss.phone_number_id.in_(numbers_of_brand(brand_id)))
        .order_by(BotMiss.created_at.desc(), BotMiss.id.desc()).limit(limit))).scalars().all()
    groups: list[MissGroup] = []
    guesses: dict[str, dict[str, list[float]]] = {}
    for miss in misses:  # newest first: a group's first example is its newest
        key = fold(miss.question)
        group = next((g for g in groups if g.key == key
                      or difflib.SequenceMatcher(None, g.key, key).ratio() >= GROUP_RATIO), None)
        if group is None:
            group = MissGroup(key=key, newest_at=miss.created_at)
            groups.append(group)
        group.ids.append(miss.id)
        if len(group.examples) < EXAMPLES and miss.question not in group.examples:
            group.examples.append(miss.question)
        group.kinds[miss.kind] = group.kinds.get(miss.kind, 0) + 1
        if miss.article:
            guesses.setdefault(group.key, {}).setdefault(miss.article, []).append(miss.confidence or 0.0)
    for group in groups:
        votes = guesses.get(group.key)
        if votes:
            article, confidences = max(votes.items(), key=lambda kv: (len(kv[1]), max(kv[1])))
            group.guess, group.guess_confidence = article, round(max(confidences), 3)
    return sorted(groups, key=lambda g: (-len(g.ids), -(g.newest_at.timestamp() if g.newest_at else 0)))


async def resolve(session: AsyncSession, brand_id: int, ids: list[int], resolution: str, *,
                  by: str, article: str | None = None) -> int:
    """Close these misses of the brand with a resolution; how many were open."""
    if resolution not in RESOLUTIONS:
        raise TrainerError(f"a miss is resolved as {' or '.join(RESOLUTIONS)}, not {resolution!r}")
    done = await session.execute(update(BotMiss).where(
        BotMiss.id.in_([int(i) for i in ids]), BotMiss.state == "open",
        BotMiss.phone_number_id.in_(numbers_of_brand(brand_id)))
        .values(state=resolution, resolution=article, resolved_by=by, resolved_at=utcnow())
        .execution_options(synchronize_session=False))
    return done.rowcount


def round_trip_yaml():
    """A YAML reader/writer that gives knowledge/faq/*.yml back as written (comments,
    layout, folded answers): tests/desk/test_trainer.py checks every file."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def question_language(question: str, languages: tuple[str, ...] | None = None) -> str:
    """The knowledge block a question belongs in: its language among the bot's, else
    the bot's default language (a question of digits or emoji)."""
    from desk.language import detect

    bot = knowledge.bot_languages()
    languages = languages or bot.languages
    found = detect(question, languages).language
    return found if found in languages else (bot.default if bot.default in languages else languages[0])


def add_question(article_id: str, question: str, faq_dir: Path | str = knowledge.FAQ_DIR) -> str:
    """Add `question` to the article's casual questions (else its questions) in the
    block of the question's language in its YAML file, keeping the file's comments;
    the loader checks the result. Returns the file name. TrainerError (with the
    loader's problems) and the file untouched if it fails."""
    question = " ".join(str(question or "").split())
    if not question:
        raise TrainerError("the question is empty")
    from desk.services.articles import knowledge_lock

    faq_dir = Path(faq_dir)
    with knowledge_lock(faq_dir):   # one writer at a time (desk.services.articles too)
        return _add_question(article_id, question, faq_dir)


def _add_question(article_id: str, question: str, faq_dir: Path) -> str:
    by_id = knowledge.articles_by_id(knowledge.load_articles(faq_dir))
    if article_id not in by_id:
        raise TrainerError(f"no article {article_id!r}")
    found = by_id[article_id]
    language = question_language(question, found.languages)
    title = found.text(language).title
    path = faq_dir / f"{found.area}.yml"
    before = path.read_text(encoding="utf-8")
    yaml = round_trip_yaml()
    doc = yaml.load(before)
    item = next(a for a in doc["articles"] if a.get("id") == article_id)[language]
    casual = item.get("casual_questions")
    if casual is not None and len(casual) < knowledge.MAX_CASUAL_QUESTIONS:
        casual.append(question)
    elif len(item.get("questions") or []) < knowledge.MAX_QUESTIONS:
        item["questions"].append(question)
    elif casual is None:
        item["casual_questions"] = [question]
    else:
        raise TrainerError(f"{title} ({language}) has {knowledge.MAX_QUESTIONS} questions and "
                           f"{knowledge.MAX_CASUAL_QUESTIONS} casual ones already: edit {path.name} to make room")
    out = io.StringIO()
    yaml.dump(doc, out)
    path.write_text(out.getvalue(), encoding="utf-8")
    try:
        knowledge.load_articles(faq_dir)
    except knowledge.KnowledgeError as exc:
        path.write_text(before, encoding="utf-8")
        raise TrainerError("; ".join(exc.problems)) from None
    return path.name


async def questions_of(session: AsyncSession, brand_id: int, ids: list[int], limit: int = 50) -> list[str]:
    """The distinct questions of these open misses of the brand, newest first (a group's
    questions, to start a new article from)."""
    misses = (await session.execute(select(BotMiss).where(
        BotMiss.id.in_([int(i) for i in ids]), BotMiss.state == "open",
        BotMiss.phone_number_id.in_(numbers_of_brand(brand_id)))
        .order_by(BotMiss.created_at.desc(), BotMiss.id.desc()))).scalars().all()
    seen, questions = set(), []
    for miss in misses:
        key = fold(miss.question)
        if key and key not in seen:
            seen.add(key)
            questions.append(miss.question)
    return questions[:limit]
