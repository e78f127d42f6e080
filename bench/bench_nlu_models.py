"""One NLU for English and Japanese, or one NLU per language? The measurements behind
config.yml (docs/training.md, "One pipeline or one per language").

Trains NLU-only models (`rasa train nlu`, into models/compare/) from the same data:

- bilingual: config.yml as shipped (BilingualTokenizer: NFKC + SudachiPy / spaCy; a
  vocabulary, a DIETClassifier and a ResponseSelector per language, nlp/by_language.py)
  on data/nlu/ and data/responses_faq.yml, both languages;
- shared: the same with one vocabulary, one DIETClassifier and one ResponseSelector
  trained on both languages;
- en only: today's English pipeline (SpacyTokenizer, stock components) on the
  English data only;
- ja only: config.yml's Japanese steps without the spaCy parts, `language: ja`, on
  the Japanese data only;

then, per language, the held-out figures (nlp.quality: intent F1, FAQ article
accuracy, WhatsApp-style answers at FAQ_CONFIDENCE_THRESHOLD), the wall-clock and
CPU time of training and the median / p95 parse time of 200 held-out messages
through the loaded agent's processor (what a bot turn's NLU costs).

    PYTHONPATH=. .venv/bin/python bench/bench_nlu_models.py [--skip-training] [--split-mode C]
        [--only ja] [--use bilingual=models/tsunagi.tar.gz] [--use en=../main/models/tsunagi.tar.gz]

Times are measured, never asserted (the machine is shared and noisy).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

OUT = ROOT / "models" / "compare"
RASA = str(ROOT / ".venv" / "bin" / "rasa")
JA_FILES = ("chitchat_ja.yml", "leads_ja.yml", "handoff_ja.yml", "feedback_ja.yml")
EN_FILES = ("chitchat.yml", "leads.yml", "handoff.yml", "feedback.yml", "media.yml")


_PLAIN = {"nlp.by_language.LanguageCountVectorsFeaturizer": "CountVectorsFeaturizer",
          "nlp.by_language.LanguageDIETClassifier": "DIETClassifier",
          "nlp.by_language.LanguageResponseSelector": "ResponseSelector"}


def _plain(step: dict) -> dict:
    """A per-language step of config.yml as the stock Rasa component."""
    step = {k: v for k, v in step.items() if k not in ("for_language", "alias", "featurizers")}
    step["name"] = _PLAIN.get(step["name"], step["name"])
    return step


def _config(kind: str, split_mode: str) -> dict:
    """bilingual: config.yml as shipped (a classifier per language in one model);
    shared: one vocabulary, one DIETClassifier, one ResponseSelector for both languages;
    en / ja: that language's steps only, as stock components (en with SpacyTokenizer)."""
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    config.pop("policies", None)
    pipeline = config["pipeline"]
    for step in pipeline:
        if step["name"] == "nlp.tokenizer.BilingualTokenizer":
            step["split_mode"] = split_mode
    if kind == "shared":
        pipeline = [_plain(s) for s in pipeline if s.get("for_language", "en") == "en"]
    elif kind in ("en", "ja"):
        pipeline = [_plain(s) for s in pipeline if s.get("for_language", kind) == kind]
        drop = ({"nlp.contacts.ContactEntityExtractor", "nlp.language.LanguageEntityExtractor"} if kind == "en"
                else {"SpacyNLP", "SpacyEntityExtractor", "nlp.language.LanguageEntityExtractor"})
        pipeline = [s for s in pipeline if s["name"] not in drop]
        if kind == "en":
            pipeline = [{"name": "SpacyTokenizer"} if s["name"] == "nlp.tokenizer.BilingualTokenizer" else s
                        for s in pipeline]
        else:
            config["language"] = "ja"
    config["pipeline"] = pipeline
    return config


def _data(kind: str, where: Path) -> Path:
    """The NLU data of one language (or both) in `where`."""
    from knowledge import load_articles
    from knowledge.build import _examples, _variation

    if where.exists():
        shutil.rmtree(where)
    where.mkdir(parents=True)
    articles = load_articles()
    if kind in ("bilingual", "shared"):
        for path in (ROOT / "data" / "nlu").glob("*.yml"):
            shutil.copy(path, where / path.name)
        shutil.copy(ROOT / "data" / "responses_faq.yml", where / "responses_faq.yml")
        return where
    for name in (EN_FILES if kind == "en" else JA_FILES) + ("language.yml",):
        shutil.copy(ROOT / "data" / "nlu" / name, where / name)
    (where / "faq.yml").write_text(_examples(articles, lambda a: a.text(kind).training_questions, kind),
                                   encoding="utf-8")
    lines = ['version: "3.1"\n', "responses:\n"]
    for a in articles:
        lines.append(f"  {a.response}:\n")
        lines.extend(_variation(a.text(kind), None))
    (where / "responses_faq.yml").write_text("".join(lines), encoding="utf-8")
    return where


def train(kind: str, split_mode: str) -> tuple[Path, float, float]:
    name = kind if split_mode == "C" else f"{kind}_{split_mode}"
    work = OUT / f"{name}_data"
    data = _data(kind, work)
    config = OUT / f"{name}_config.yml"
    config.write_text(yaml.safe_dump(_config(kind, split_mode), allow_unicode=True, sort_keys=False))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run([RASA, "train", "nlu", "-c", str(config), "-u", str(data), "-d", str(ROOT / "domain.yml"),
                    "--out", str(OUT), "--fixed-model-name", name, "--quiet"], cwd=ROOT, check=True,
                   env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
                        "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return OUT / f"{name}.tar.gz", wall, cpu


async def latency(model: Path, texts: list[str]) -> tuple[float, float]:
    from rasa.core.channels import UserMessage

    from nlp.quality import load_agent

    processor = load_agent(model).processor
    for text in texts[:10]:
        await processor.parse_message(UserMessage(text))
    times = []
    for text in texts:
        started = time.perf_counter()
        await processor.parse_message(UserMessage(text))
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def figures(model: Path, language: str) -> dict:
    from actions.faq import confidence_threshold
    from nlp.quality import HELD_OUT, evaluate_nlu, evaluate_thresholds, load_labelled

    held_out = HELD_OUT[language]
    quality = asyncio.run(evaluate_nlu(model, held_out.nlu, language=language))
    _, [row] = asyncio.run(evaluate_thresholds(model, held_out.whatsapp, (confidence_threshold(),)))
    texts = [t for t, _ in load_labelled(held_out.whatsapp)]
    texts = (texts * (200 // len(texts) + 1))[:200]
    median, p95 = asyncio.run(latency(model, texts))
    return {"intent_f1": quality.intent_f1, "articles": quality.response_accuracy,
            "answered": row.answered_share, "right": row.all_answers_right,
            "oos": f"{row.out_of_scope_answered}/{row.out_of_scope}", "median_ms": median, "p95_ms": p95}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-training", action="store_true", help="use the models already in models/compare/")
    parser.add_argument("--split-mode", default="C", choices=["A", "B", "C"])
    parser.add_argument("--only", action="append", choices=["bilingual", "shared", "en", "ja"])
    parser.add_argument("--use", action="append", default=[], metavar="KIND=MODEL",
                        help="evaluate this model for KIND instead of training one, e.g. "
                             "bilingual=models/tsunagi.tar.gz or en=<the English-only bot's model>")
    args = parser.parse_args(argv)
    given = dict(item.split("=", 1) for item in args.use)
    OUT.mkdir(parents=True, exist_ok=True)
    kinds = args.only or ["bilingual", "shared", "en", "ja"]
    rows = []
    for kind in kinds:
        if kind in given:
            model, wall, cpu = Path(given[kind]), float("nan"), float("nan")
        elif args.skip_training:
            model, wall, cpu = OUT / f"{kind}.tar.gz", float("nan"), float("nan")
        else:
            model, wall, cpu = train(kind, args.split_mode)
        for language in (["en", "ja"] if kind in ("bilingual", "shared") else [kind]):
            f = figures(model, language)
            rows.append((kind, language, wall, cpu, f))
            print(f"{kind:<10} {language:<3} split {args.split_mode} train {wall:6.0f} s wall {cpu:6.0f} s cpu  "
                  f"intent F1 {f['intent_f1']:.3f}  articles {f['articles']:.3f}  "
                  f"WhatsApp answered {f['answered']:.1%} right {f['right']:.1%} oos {f['oos']}  "
                  f"parse median {f['median_ms']:.1f} ms p95 {f['p95_ms']:.1f} ms", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
