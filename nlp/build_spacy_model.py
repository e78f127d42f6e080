"""Build the blank English spaCy pipeline that Rasa's SpacyNLP loads by path.

spaCy's trained models cannot be downloaded on these machines, so the pipeline is
`spacy.blank("en")` (tokenizer, lexical attributes) plus an `entity_ruler` whose
patterns find what DIET should not have to learn: e-mail addresses, phone numbers
and URLs. The patterns live here, next to the builder, and the output folder
records their hash so the model is rebuilt only when they change.

    python -m nlp.build_spacy_model [--if-missing] [--out build/spacy/tsunagi_en]
"""
from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "build" / "spacy" / "tsunagi_en"

# Separators spaCy's tokenizer splits off between digit groups: "0044-20-7946-0958"
# becomes 0044 - 20 - 7946 - 0958 and "+1 (555) 010-9999" becomes +1 ( 555 ) 010 - 9999.
_SEPARATOR = {"TEXT": {"IN": ["-", ".", "/", "(", ")"]}, "OP": "*"}
_OPEN = {"TEXT": "(", "OP": "?"}  # "(020) 7946 0958": the bracket is a token of its own
_GROUP = {"TEXT": {"REGEX": r"^\(?\d{1,6}\)?\d{0,6}$"}}  # 20, 7946, (0)20 and 0)20


def _phone_patterns() -> list[dict]:
    """A phone number as 2-6 digit groups with optional separators between them.

    Up to four groups the last one has at least 3 digits, so dates (2024-05-01) and
    small numbers ("20 boxes") are not taken for phone numbers; a two-group number
    needs a longer head and tail (555-0100, 07700 900123). The desk and the lead
    form parse and validate the span with `phonenumbers`, so the ruler only has to
    find it.
    """
    patterns = [{"label": "phone", "pattern": [
        _OPEN, {"TEXT": {"REGEX": r"^\+?\(?\d{2,5}\)?$"}}, _SEPARATOR,
        {"TEXT": {"REGEX": r"^\d{4,8}$"}}]}]
    for groups in range(3, 7):
        tokens: list[dict] = [_OPEN, {"TEXT": {"REGEX": r"^\+?\(?\d{1,5}\)?$"}}]
        for _ in range(groups - 2):
            tokens += [_SEPARATOR, _GROUP]
        # From five groups on, a 2-digit tail is a phone number (+33 1 42 68 53 00).
        tail = r"^\d{2,8}$" if groups >= 5 else r"^\d{3,8}$"
        tokens += [_SEPARATOR, {"TEXT": {"REGEX": tail}}]
        patterns.append({"label": "phone", "pattern": tokens})
    # One token: +447700900123, 555.010.9999, 020/7946/0958; not a date (01.02.2025).
    patterns.append({"label": "phone", "pattern": [
        {"TEXT": {"REGEX": r"^(?!\d{1,4}[\-\./]\d{1,2}[\-\./]\d{1,4}$)\+?\d[\d\-\./]{6,16}\d$"}}]})
    return patterns


# Token patterns use spaCy's lexical attributes, so no statistical model is needed.
ENTITY_PATTERNS: list[dict] = [
    {"label": "email", "pattern": [{"LIKE_EMAIL": True}]},
    {"label": "url", "pattern": [{"LIKE_URL": True}]},
    *_phone_patterns(),
]


def patterns_hash() -> str:
    return hashlib.sha256(json.dumps(ENTITY_PATTERNS, sort_keys=True).encode()).hexdigest()


def build(out: Path) -> Path:
    import spacy  # imported here: `--if-missing` on an up-to-date model skips the import

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": True})
    ruler.add_patterns(ENTITY_PATTERNS)
    out.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out)
    (out / "tsunagi.hash").write_text(patterns_hash())
    return out


def is_current(out: Path) -> bool:
    marker = out / "tsunagi.hash"
    return marker.exists() and marker.read_text() == patterns_hash()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--if-missing", action="store_true", help="skip when up to date")
    args = parser.parse_args()
    if args.if_missing and is_current(args.out):
        print(f"spacy: {args.out} up to date")
        return
    print(f"spacy: built {build(args.out)}")


if __name__ == "__main__":
    main()
