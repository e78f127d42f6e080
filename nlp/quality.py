"""The bot's measured quality, for trainers: `make quality` (python -m nlp.quality).

1. checks that the FAQ training data is generated from the current knowledge/;
2. trains the model on data/ (`rasa train`; Rasa reuses its cache for whatever did
   not change, so an unchanged bot is "trained" in seconds);
3. for each language of the bot (HELD_OUT: English tests/nlu/, Japanese tests/nlu_ja/,
   never part of data/) evaluates the NLU on its held-out set and prints intent F1
   (weighted), response-selection accuracy (which FAQ answer), entity F1 (emails,
   phone numbers, links: the spaCy entity ruler, and nlp.contacts in Japanese text)
   and what the worst intents and FAQ topics are confused with; English must stay
   at least at ENGLISH_BASELINE, the figures before Japanese was added;
4. scores each language's WhatsApp-style held-out set (tests/nlu_whatsapp/,
   tests/nlu_whatsapp_ja/: casual writing, typos; messages without an article
   labelled out_of_scope) at a range of FAQ confidence thresholds: the share of FAQ
   messages answered, the exact-article accuracy of those answers and the
   out-of-scope messages answered anyway, at the language's own threshold
   (actions.faq.confidence_threshold: FAQ_CONFIDENCE_THRESHOLD for English,
   FAQ_CONFIDENCE_THRESHOLD_JA for Japanese); a language with a development set
   (tests/nlu_whatsapp_dev_ja/) gets that set's table too, the one its threshold is
   chosen on (`choose_threshold`), so that the held-out set is only measured;
5. runs the test stories: `rasa test core --stories tests/stories
   --fail-on-prediction-errors`.

Exits non-zero if a figure is below its threshold or a test story fails.

    python -m nlp.quality [--no-train] [--no-core] [--model models/tsunagi.tar.gz] [--language ja]
    python -m nlp.quality --no-train --no-core --thresholds-only   # just the tables
    python -m nlp.quality --no-train --development --language ja   # the development set's table only
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "tsunagi.tar.gz"
TEST_NLU = ROOT / "tests" / "nlu"
TEST_STORIES = ROOT / "tests" / "stories"
WHATSAPP_TEST = ROOT / "tests" / "nlu_whatsapp" / "whatsapp_test.yml"
RESULTS = ROOT / "results" / "quality"
RASA = str(ROOT / ".venv" / "bin" / "rasa")

INTENT_F1_MIN = 0.90
RESPONSE_ACCURACY_MIN = 0.90
ENTITY_F1_MIN = 0.90
# Of the WhatsApp-style messages the bot answers (at FAQ_CONFIDENCE_THRESHOLD), the
# share that get exactly the right article.
ANSWER_ACCURACY_MIN = 0.95
THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
# Emails, phone numbers and links: the spaCy entity ruler, nlp.contacts in Japanese text.
ENTITY_EXTRACTOR = "contacts"
CONTACT_EXTRACTORS = ("SpacyEntityExtractor", "ContactEntityExtractor")
CONTACT_ENTITIES = ("email", "phone", "url")


@dataclass(frozen=True)
class HeldOut:
    """A language's held-out sets: Rasa NLU files, and the WhatsApp-style FAQ set; and
    the WhatsApp-style development set its FAQ threshold is chosen on, if it has one."""

    language: str
    nlu: Path
    whatsapp: Path
    development: Path | None = None


HELD_OUT = {
    "en": HeldOut("en", TEST_NLU, WHATSAPP_TEST),
    "ja": HeldOut("ja", ROOT / "tests" / "nlu_ja", ROOT / "tests" / "nlu_whatsapp_ja" / "whatsapp_test.yml",
                  ROOT / "tests" / "nlu_whatsapp_dev_ja" / "whatsapp_dev.yml"),
}
# English before Japanese was added (2026-12-03, `python -m nlp.quality --no-train` on
# the English-only model, docs/training.md): English may not get worse than this, by
# more than the margins: one held-out example for the NLU figures (180 examples, 117
# FAQ questions) and the answered share (124 FAQ messages); two of the ~103 answers at
# FAQ_CONFIDENCE_THRESHOLD for "all answers right", which was 100% with two wrong
# answers just below the threshold (0.59, 0.56) that retraining moves either way.
ENGLISH_BASELINE = {"intent_f1": 0.965, "response_accuracy": 0.991, "entity_f1": 1.0,
                    "whatsapp_answered_share": 103 / 124, "whatsapp_all_answers_right": 1.0}
ENGLISH_MARGIN = {"intent_f1": 1 / 180, "response_accuracy": 1 / 117, "entity_f1": 0.0,
                  "whatsapp_answered_share": 1 / 124, "whatsapp_all_answers_right": 2 / 103}
_SUMMARY_ROWS = {"accuracy", "macro avg", "weighted avg", "micro avg"}
# Rule-based extractors Rasa's evaluation scores against annotations they do not use
# (the language entity is never annotated); their figures are ours: `contacts`.
_OWN_EXTRACTORS = {"LanguageEntityExtractor", "ContactEntityExtractor"}


@dataclass
class LabelScore:
    label: str
    f1: float
    support: int
    confused_with: dict[str, int] = field(default_factory=dict)


@dataclass
class NluQuality:
    """Figures of one evaluation of a model on a held-out set."""

    intent_f1: float
    intent_accuracy: float
    response_accuracy: float | None
    response_f1: float | None
    entity_f1: dict[str, float]
    intents: list[LabelScore]
    responses: list[LabelScore]
    examples: int
    errors: list[dict[str, Any]]
    language: str = "en"

    def failures(self) -> list[str]:
        problems = []
        if self.language == "en":
            for name, value in (("intent_f1", self.intent_f1), ("response_accuracy", self.response_accuracy),
                                ("entity_f1", self.entity_f1.get(ENTITY_EXTRACTOR))):
                floor = ENGLISH_BASELINE[name] - ENGLISH_MARGIN[name]
                if value is None or value < floor - 1e-9:
                    problems.append(f"English {name} {value} is below its figure before Japanese "
                                    f"({ENGLISH_BASELINE[name]}, margin {ENGLISH_MARGIN[name]:.3f})")
        if self.intent_f1 < INTENT_F1_MIN:
            problems.append(f"intent F1 {self.intent_f1:.3f} < {INTENT_F1_MIN}")
        if self.response_accuracy is None or self.response_accuracy < RESPONSE_ACCURACY_MIN:
            problems.append(f"response-selection accuracy {self.response_accuracy} < "
                            f"{RESPONSE_ACCURACY_MIN}")
        entity = self.entity_f1.get(ENTITY_EXTRACTOR)
        if entity is None or entity < ENTITY_F1_MIN:
            problems.append(f"entity F1 ({ENTITY_EXTRACTOR}) {entity} < {ENTITY_F1_MIN}")
        return [f"[{self.language}] {p}" for p in problems]


def _labels(report: dict[str, Any]) -> list[LabelScore]:
    scores = [LabelScore(label, float(row.get("f1-score", 0.0)), int(row.get("support", 0)),
                         dict(row.get("confused_with") or {}))
              for label, row in report.items()
              if label not in _SUMMARY_ROWS and isinstance(row, dict)]
    return sorted(scores, key=lambda s: (s.f1, -s.support, s.label))


def quiet_rasa() -> None:
    """Rasa's warnings and errors only (its evaluation logs every parse at debug level)."""
    import logging

    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


def _entity_spans(entities: list[dict[str, Any]]) -> set[tuple[int, int, str]]:
    return {(int(e["start"]), int(e["end"]), str(e["entity"])) for e in entities}


async def entity_f1(processor: Any, test_data: Path = TEST_NLU) -> float:
    """Strict span F1 of the contact entities (email, phone, url: the spaCy entity
    ruler, nlp.contacts in Japanese text): (start, end, type) must match exactly.

    Rasa's own NLU evaluation leaves out pre-trained extractors such as
    SpacyEntityExtractor (rasa.nlu.test.PRETRAINED_EXTRACTORS), so it is measured
    here, over every held-out example (false positives count too).
    """
    from rasa.core.channels import UserMessage
    from rasa.shared.importers.importer import TrainingDataImporter

    data = TrainingDataImporter.load_from_dict(
        training_data_paths=[str(test_data)], domain_path=str(ROOT / "domain.yml")).get_nlu_data()
    tp = fp = fn = 0
    for example in data.nlu_examples:
        parsed = await processor.parse_message(UserMessage(example.get("text")))
        predicted = _entity_spans([e for e in parsed.get("entities", [])
                                   if e.get("extractor") in CONTACT_EXTRACTORS
                                   and e.get("entity") in CONTACT_ENTITIES])
        gold = _entity_spans([e for e in example.get("entities") or [] if e.get("entity") in CONTACT_ENTITIES])
        tp += len(predicted & gold)
        fp += len(predicted - gold)
        fn += len(gold - predicted)
    if tp == 0:
        return 0.0
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    return 2 * precision * recall / (precision + recall)


_AGENTS: dict[str, Any] = {}


def load_agent(model: Path = MODEL) -> Any:
    """The Rasa agent of `model`, loaded once per process (and model file version)."""
    from rasa.core.agent import Agent

    key = f"{model}:{model.stat().st_mtime_ns if model.exists() else 0}"
    if key not in _AGENTS:
        quiet_rasa()
        _AGENTS[key] = Agent.load(model_path=str(model))
    return _AGENTS[key]


async def evaluate_nlu(model: Path = MODEL, test_data: Path = TEST_NLU,
                       out: Path | None = None, language: str = "en") -> NluQuality:
    """Run Rasa's NLU evaluation (rasa.nlu.test.run_evaluation) of `model` on `test_data`."""
    from rasa.nlu.test import run_evaluation

    agent = load_agent(model)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    result = await run_evaluation(str(test_data), agent.processor,
                                  output_directory=str(out) if out else None,
                                  errors=out is not None, disable_plotting=True,
                                  report_as_dict=True, domain_path=str(ROOT / "domain.yml"))
    intent = result["intent_evaluation"] or {}
    response = result.get("response_selection_evaluation") or {}
    entity = result.get("entity_evaluation") or {}
    predictions = intent.get("predictions") or []
    errors = [p for p in predictions if p.get("intent") != p.get("predicted")]
    errors += [p for p in response.get("predictions") or []
               if p.get("intent_response_key_target") != p.get("intent_response_key_prediction")]
    return NluQuality(
        intent_f1=float(intent.get("f1_score", 0.0)),
        intent_accuracy=float(intent.get("accuracy", 0.0)),
        response_accuracy=float(response["accuracy"]) if response else None,
        response_f1=float(response["f1_score"]) if response else None,
        entity_f1={**{name: float(r.get("f1_score", 0.0)) for name, r in entity.items()
                      if name not in _OWN_EXTRACTORS},
                   ENTITY_EXTRACTOR: await entity_f1(agent.processor, test_data)},
        intents=_labels(intent.get("report") or {}),
        responses=_labels(response.get("report") or {}),
        examples=len(predictions),
        errors=errors,
        language=language,
    )


@dataclass(frozen=True)
class ScoredMessage:
    """One held-out message: what it needs and what the NLU made of it."""

    text: str
    expected: str | None      # the article id, or None (no article: must not be answered)
    intent: str | None        # the intent after the FallbackClassifier
    article: str | None       # the ResponseSelector's article
    confidence: float         # the ResponseSelector's confidence in it

    def answered_at(self, threshold: float) -> bool:
        """Whether the bot answers it with an article (as actions/faq.py decides)."""
        return self.intent == "faq" and self.article is not None and self.confidence >= threshold


@dataclass(frozen=True)
class ThresholdRow:
    threshold: float
    faq_messages: int
    answered: int
    correct: int
    out_of_scope: int
    out_of_scope_answered: int

    @property
    def answered_share(self) -> float:
        return self.answered / self.faq_messages if self.faq_messages else 0.0

    @property
    def accuracy(self) -> float:
        """Exact article among the FAQ messages answered (1.0 when none is)."""
        return self.correct / self.answered if self.answered else 1.0

    @property
    def all_answers_right(self) -> float:
        """Right among every answer given, counting answers to messages without an article as wrong."""
        given = self.answered + self.out_of_scope_answered
        return self.correct / given if given else 1.0


def load_labelled(path: Path = WHATSAPP_TEST) -> list[tuple[str, str | None]]:
    """(text, article id or None) of a held-out NLU file labelled faq/<id> or out_of_scope."""
    import yaml

    result = []
    for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
        intent = block["intent"]
        expected = intent.split("/", 1)[1] if intent.startswith("faq/") else None
        if expected is None and intent != "out_of_scope":
            raise ValueError(f"{path}: label {intent!r} is neither faq/<id> nor out_of_scope")
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                result.append((line[2:].strip(), expected))
    return result


async def score_messages(processor: Any, labelled: list[tuple[str, str | None]]) -> list[ScoredMessage]:
    from rasa.core.channels import UserMessage

    from actions.faq import selection_of

    scored = []
    for text, expected in labelled:
        parsed = await processor.parse_message(UserMessage(text))
        selection = selection_of(parsed)
        scored.append(ScoredMessage(text, expected, (parsed.get("intent") or {}).get("name"),
                                    selection.article, selection.confidence))
    return scored


def threshold_table(scored: list[ScoredMessage],
                    thresholds: tuple[float, ...] = THRESHOLDS) -> list[ThresholdRow]:
    faq = [m for m in scored if m.expected is not None]
    oos = [m for m in scored if m.expected is None]
    rows = []
    for t in thresholds:
        answered = [m for m in faq if m.answered_at(t)]
        rows.append(ThresholdRow(t, len(faq), len(answered),
                                 sum(m.article == m.expected for m in answered),
                                 len(oos), sum(m.answered_at(t) for m in oos)))
    return rows


def pick_threshold(rows: list[ThresholdRow], goal: float = ANSWER_ACCURACY_MIN) -> ThresholdRow | None:
    """The lowest threshold whose answers meet the goal, i.e. the one that answers most.

    Every answer counts: one to a message without an article is a wrong answer."""
    meeting = [r for r in rows if r.accuracy >= goal and r.all_answers_right >= goal and r.answered]
    return min(meeting, key=lambda r: r.threshold) if meeting else None


def choose_threshold(rows: list[ThresholdRow]) -> ThresholdRow | None:
    """The threshold to configure, chosen on a development set by the rule English's 0.6
    was chosen by: the lowest at which every answer on the set was right (no wrong
    article, no message without an article answered); else the lowest meeting the goal."""
    perfect = [r for r in rows if r.answered and r.correct == r.answered and not r.out_of_scope_answered]
    return min(perfect, key=lambda r: r.threshold) if perfect else pick_threshold(rows)


def format_threshold_table(rows: list[ThresholdRow], current: float | None = None,
                           picked: ThresholdRow | None = None, path: Path = WHATSAPP_TEST,
                           picked_label: str = "lowest meeting the goal") -> str:
    first = rows[0] if rows else None
    lines = [f"FAQ confidence threshold on {os.path.relpath(path, ROOT)} "
             f"({first.faq_messages if first else 0} FAQ messages, "
             f"{first.out_of_scope if first else 0} without an article)",
             "  threshold  answered          exact article     out-of-scope answered  "
             "all answers right"]
    for r in rows:
        mark = ("  <- configured threshold" if current is not None and abs(r.threshold - current) < 1e-9
                else "") + ("  <- " + picked_label if picked is r else "")
        lines.append(f"  {r.threshold:>9.2f}  {r.answered:>3}/{r.faq_messages:<3} ({r.answered_share:5.1%})  "
                     f"{r.correct:>3}/{r.answered:<3} ({r.accuracy:6.1%})  "
                     f"{r.out_of_scope_answered:>2}/{r.out_of_scope:<2} {'':>18}"
                     f"{r.all_answers_right:6.1%}{mark}")
    return "\n".join(lines)


async def evaluate_thresholds(model: Path = MODEL, path: Path = WHATSAPP_TEST,
                              thresholds: tuple[float, ...] = THRESHOLDS,
                              ) -> tuple[list[ScoredMessage], list[ThresholdRow]]:
    agent = load_agent(model)
    scored = await score_messages(agent.processor, load_labelled(path))
    return scored, threshold_table(scored, thresholds)


def worst_pairs(q: NluQuality, n: int = 5) -> list[dict[str, Any]]:
    """The held-out set's most frequent confusions (intents and FAQ topics): which label
    was taken for which, how often; for the console beside the model's figures."""
    pairs = [{"label": s.label, "taken_for": other, "count": count, "f1": round(s.f1, 3)}
             for s in [*q.intents, *q.responses] if s.f1 < 1.0 for other, count in s.confused_with.items()]
    return sorted(pairs, key=lambda p: (-p["count"], p["f1"], p["label"], p["taken_for"]))[:n]


def format_quality(q: NluQuality, worst: int = 5) -> str:
    def confusions(scores: list[LabelScore]) -> list[str]:
        lines = []
        for s in [s for s in scores if s.f1 < 1.0][:worst]:
            conf = ", ".join(f"{label} ×{n}" for label, n in
                             sorted(s.confused_with.items(), key=lambda kv: -kv[1])) or "—"
            lines.append(f"    {s.label:<34} F1 {s.f1:.2f} (n={s.support})  confused with: {conf}")
        return lines or ["    (none below 1.00)"]

    rs = "n/a" if q.response_accuracy is None else f"{q.response_accuracy:.3f}"
    entity = ", ".join(f"{k} {v:.3f}" for k, v in q.entity_f1.items()) or "n/a"
    lines = [
        f"[{q.language}] held-out NLU evaluation ({q.examples} examples, "
        f"{os.path.relpath(HELD_OUT[q.language].nlu, ROOT) if q.language in HELD_OUT else '?'}/)",
        f"  intent F1 (weighted)          {q.intent_f1:.3f}   (accuracy {q.intent_accuracy:.3f}; "
        f"goal ≥ {INTENT_F1_MIN})",
        f"  response-selection accuracy   {rs}   (goal ≥ {RESPONSE_ACCURACY_MIN})",
        f"  entity F1                     {entity}   (goal ≥ {ENTITY_F1_MIN})",
        "  worst intents:", *confusions(q.intents),
        "  worst FAQ topics:", *confusions(q.responses),
    ]
    return "\n".join(lines)


def whatsapp_failures(row: ThresholdRow, language: str) -> list[str]:
    """What is wrong with a language's answers at FAQ_CONFIDENCE_THRESHOLD (row)."""
    problems = []
    if min(row.accuracy, row.all_answers_right) < ANSWER_ACCURACY_MIN:
        problems.append(f"[{language}] WhatsApp-style answers right {min(row.accuracy, row.all_answers_right):.3f} "
                        f"< {ANSWER_ACCURACY_MIN} at its FAQ confidence threshold {row.threshold}")
    if language == "en":
        for name, value in (("whatsapp_answered_share", row.answered_share),
                            ("whatsapp_all_answers_right", row.all_answers_right)):
            floor = ENGLISH_BASELINE[name] - ENGLISH_MARGIN[name]
            if value < floor - 1e-9:
                problems.append(f"[en] {name} {value:.3f} is below its figure before Japanese "
                                f"({ENGLISH_BASELINE[name]})")
    return problems


def _report_development(model: Path, held_out: HeldOut, current: float) -> list[str]:
    """The development set's table, the threshold it chooses, and whether it is the configured one."""
    assert held_out.development is not None
    scored, rows = asyncio.run(evaluate_thresholds(model, held_out.development,
                                                   tuple(sorted({*THRESHOLDS, current}))))
    chosen = choose_threshold(rows)
    print(f"[{held_out.language}] development set: " + format_threshold_table(
        rows, current, chosen, held_out.development, "chosen: lowest with every answer right"))
    for m in sorted((m for m in scored if m.answered_at(0.0) and m.article != m.expected),
                    key=lambda m: -m.confidence)[:8]:
        print(f"    wrong at {m.confidence:.2f}: {m.text!r} -> {m.article}, needs {m.expected or 'no article'}")
    if chosen is not None and abs(chosen.threshold - current) > 1e-9:
        print(f"    note: the development set chooses {chosen.threshold}, the configured threshold is {current} "
              f"(actions/faq.py DEFAULT_FAQ_CONFIDENCE_THRESHOLDS)")
    return []


def _report_thresholds(model: Path, held_out: HeldOut, current: float, out: Path) -> list[str]:
    scored, rows = asyncio.run(evaluate_thresholds(model, held_out.whatsapp,
                                                   tuple(sorted({*THRESHOLDS, current}))))
    print(f"[{held_out.language}] " + format_threshold_table(rows, current, pick_threshold(rows),
                                                              held_out.whatsapp))
    for m in (m for m in scored if m.answered_at(current) and m.article != m.expected):
        print(f"    answered wrongly: {m.text!r} -> {m.article} ({m.confidence:.2f}), "
              f"needs {m.expected or 'no article'}")
    near = sorted((m for m in scored if not m.answered_at(current) and m.intent == "faq"
                   and m.confidence >= current - 0.1), key=lambda m: -m.confidence)
    for m in near:
        verdict = "right" if m.article == m.expected else "wrong"
        print(f"    just below: {m.text!r} -> {m.article} ({m.confidence:.2f}, {verdict})")
    out.mkdir(parents=True, exist_ok=True)
    (out / "whatsapp_scored.json").write_text(json.dumps(
        [m.__dict__ for m in scored], ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"  every message: {os.path.relpath(out / 'whatsapp_scored.json', ROOT)}")
    [row] = [r for r in rows if abs(r.threshold - current) < 1e-9]
    return whatsapp_failures(row, held_out.language)


def _run(cmd: list[str]) -> int:
    print("$ " + " ".join(os.path.relpath(c, ROOT) if c.startswith(str(ROOT)) else c for c in cmd),
          flush=True)
    return subprocess.call(cmd, cwd=ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--no-train", action="store_true", help="evaluate the existing model")
    parser.add_argument("--no-core", action="store_true", help="skip the test stories")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--thresholds-only", action="store_true",
                        help="only the FAQ confidence threshold tables (WhatsApp-style sets)")
    parser.add_argument("--development", action="store_true",
                        help="only the development sets' threshold tables (what a threshold is chosen on)")
    parser.add_argument("--language", action="append", choices=sorted(HELD_OUT),
                        help="only this language (repeatable; default: all)")
    parser.add_argument("--json", action="store_true",
                        help="end with one JSON line of the figures per language (the console's training runs)")
    parser.add_argument("--faq", type=Path, help="the articles the model was built from (default knowledge/faq)")
    parser.add_argument("--root", type=Path, help="where their generated files are (default the project)")
    args = parser.parse_args(argv)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from knowledge.build import main as build_main
    if build_main(["--check", *(["--faq", str(args.faq)] if args.faq else []),
                   *(["--root", str(args.root)] if args.root else [])]) != 0:
        return 1

    if not args.no_train:
        started = time.monotonic()
        if _run([RASA, "train", "--fixed-model-name", args.model.name.removesuffix(".tar.gz"),
                 "--out", str(args.model.parent), "--quiet"]) != 0:
            return 1
        print(f"training: {time.monotonic() - started:.0f} s (cached components are reused)")
    if not args.model.exists():
        print(f"no model at {args.model}: run `make train`", file=sys.stderr)
        return 1

    failures: list[str] = []
    figures: dict[str, dict] = {}
    from actions.faq import confidence_threshold

    for language in args.language or list(HELD_OUT):
        held_out, out = HELD_OUT[language], args.out / language
        current = confidence_threshold(language)
        if held_out.development is not None:
            failures += _report_development(args.model, held_out, current)
        if args.development:
            continue
        if not args.thresholds_only:
            quality = asyncio.run(evaluate_nlu(args.model, held_out.nlu, out / "nlu", language))
            print(format_quality(quality))
            print(f"  details: {os.path.relpath(out / 'nlu', ROOT)}/ (reports, errors)")
            failures += quality.failures()
            figures[language] = {"intent_f1": round(quality.intent_f1, 4),
                                 "response_accuracy": None if quality.response_accuracy is None
                                 else round(quality.response_accuracy, 4),
                                 "confused": worst_pairs(quality)}
        failures += _report_thresholds(args.model, held_out, current, out)
    if args.thresholds_only or args.development:
        args.no_core = True

    if not args.no_core:
        code = _run([RASA, "test", "core", "--model", str(args.model), "--stories",
                     str(TEST_STORIES), "--fail-on-prediction-errors", "--out",
                     str(args.out / "core"), "--quiet"])
        if code != 0:
            failures.append(f"test stories failed (see {os.path.relpath(args.out / 'core', ROOT)}/"
                            "failed_test_stories.yml)")
        else:
            print("test stories: all passed")

    if args.json:
        print(json.dumps({**figures, "goals_met": not failures}))
    if failures:
        print("QUALITY CHECK FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print("quality: all goals met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
