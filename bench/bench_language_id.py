"""Which language-identification library tells English from Japanese on WhatsApp-length
messages: lingua-language-detector vs py3langid, and desk.language.detect (lingua
behind a kana shortcut), on the held-out messages of both languages (tests/nlu/,
tests/nlu_whatsapp/, tests/nlu_ja/, tests/nlu_whatsapp_ja/: never trained on).

Prints, per detector and language, the accuracy (messages given the right language;
"no language" counts as wrong) and the median and 95th-percentile time per message in
µs (after a warm-up; the detectors are built once). Messages without a letter
(phone numbers alone) are left out. Times are measured, never asserted.

    PYTHONPATH=. .venv/bin/python bench/bench_language_id.py [--repeat 3]
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

SETS = {"en": ["tests/nlu", "tests/nlu_whatsapp"], "ja": ["tests/nlu_ja", "tests/nlu_whatsapp_ja"]}
_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")
_LETTER = re.compile(r"[^\W\d_]")


def messages() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for language, dirs in SETS.items():
        texts = []
        for d in dirs:
            for path in sorted((ROOT / d).glob("*.yml")):
                for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
                    for line in (block.get("examples") or "").splitlines():
                        text = _ANNOTATION.sub(r"\1", line.strip().removeprefix("- ").strip())
                        if text and _LETTER.search(text):
                            texts.append(text)
        found[language] = texts
    return found


def detectors() -> dict[str, Callable[[str], str | None]]:
    from lingua import Language, LanguageDetectorBuilder
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from desk.language import detect

    lingua_two = LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.JAPANESE).build()
    # Three languages, as a desk with a third one would run it.
    lingua_three = LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.JAPANESE,
                                                          Language.CHINESE).build()
    codes = {Language.ENGLISH: "en", Language.JAPANESE: "ja", Language.CHINESE: "zh"}
    langid_two = LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)
    langid_two.set_languages(["en", "ja"])
    langid_all = LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)

    def lingua(detector):
        def run(text: str) -> str | None:
            found = detector.detect_language_of(text)
            return codes.get(found) if found is not None else None
        return run

    return {
        "lingua (en, ja)": lingua(lingua_two),
        "lingua (en, ja, zh)": lingua(lingua_three),
        "py3langid (en, ja)": lambda text: langid_two.classify(text)[0],
        "py3langid (all 97 languages)": lambda text: langid_all.classify(text)[0],
        "desk.language.detect (kana rule + lingua)": lambda text: detect(text).language,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timing runs per message")
    args = parser.parse_args(argv)
    sets = messages()
    print("messages: " + ", ".join(f"{lang} {len(texts)} (median {statistics.median(map(len, texts)):.0f} chars)"
                                   for lang, texts in sets.items()))
    print(f"{'detector':<44}{'lang':<6}{'accuracy':>14}{'median µs':>12}{'p95 µs':>10}")
    for name, run in detectors().items():
        for text in sets["en"][:20] + sets["ja"][:20]:
            run(text)   # warm-up: lazy model loading is not per-message cost
        for language, texts in sets.items():
            right, times, wrong = 0, [], []
            for text in texts:
                for _ in range(args.repeat):
                    started = time.perf_counter_ns()
                    got = run(text)
                    times.append((time.perf_counter_ns() - started) / 1000)
                if got == language:
                    right += 1
                else:
                    wrong.append(text)
            times.sort()
            p95 = times[int(len(times) * 0.95) - 1]
            print(f"{name:<44}{language:<6}{right:>5}/{len(texts):<4}{right / len(texts):>5.1%}"
                  f"{statistics.median(times):>12.0f}{p95:>10.0f}")
            if wrong:
                print(f"{'':<50}wrong e.g.: " + "; ".join(repr(t) for t in wrong[:4]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
