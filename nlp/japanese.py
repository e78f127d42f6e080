"""Japanese text for the NLU, in plain Python: width folding with offsets, SudachiPy
morphemes, and e-mail addresses / phone numbers / links inside Japanese sentences.

The Rasa components (nlp/tokenizer.py, nlp/contacts.py) are thin wrappers over this.
Offsets are always those of the text as the user wrote it: the NLU sees the NFKC form
("ｷｬﾝｾﾙ" is "キャンセル", "０９０" is "090"), the entities point into the original.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

# Hiragana, katakana (full and half width), CJK ideographs: text the spaCy English
# tokenizer cannot split (no spaces between words).
JAPANESE_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f\u3005\u3006]")
# Morphemes that carry no meaning for the classifiers: spaces and punctuation.
_DROPPED_POS = {"空白", "補助記号"}
SPLIT_MODES = ("A", "B", "C")


def has_japanese(text: str) -> bool:
    return bool(JAPANESE_SCRIPT.search(text or ""))


@dataclass(frozen=True)
class Normalised:
    """NFKC text and, for each of its characters, where it came from in the original."""

    text: str
    starts: tuple[int, ...]   # original offset of the chunk each normalised char belongs to
    ends: tuple[int, ...]     # original end offset of that chunk
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original (start, end) of the normalised slice [start:end]."""
        if start >= len(self.text):
            return self.original_length, self.original_length
        return self.starts[start], self.ends[max(start, end - 1)]


def _chunks(text: str):
    """The text in pieces that NFKC folds independently: a character with the marks
    that follow it (combining marks, half-width ﾞ ﾟ)."""
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and (unicodedata.combining(text[j]) or text[j] in "\uff9e\uff9f"):
            j += 1
        yield i, j
        i = j


def normalise_with_offsets(text: str) -> Normalised:
    """NFKC, as desk.language.normalise, keeping the map back to the original offsets."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, j in _chunks(text):
        folded = unicodedata.normalize("NFKC", text[i:j])
        out.append(folded)
        starts.extend([i] * len(folded))
        ends.extend([j] * len(folded))
    return Normalised("".join(out), tuple(starts), tuple(ends), len(text))


@dataclass(frozen=True)
class Morpheme:
    text: str        # the NFKC surface
    start: int       # offsets in the original text
    end: int
    lemma: str       # Sudachi's normalised form: "下さい" -> "下さる", "お願い" -> "願う"
    pos: str         # the first level of the part of speech (名詞, 動詞, ...)


@functools.lru_cache(maxsize=1)
def _dictionary():
    from sudachipy import Dictionary

    return Dictionary(dict="core")


@functools.lru_cache(maxsize=4)
def _tokenizer(mode: str):
    from sudachipy import SplitMode

    return _dictionary().tokenizer(mode=getattr(SplitMode, mode))


def morphemes(text: str, mode: str = "C") -> list[Morpheme]:
    """The words of a (Japanese) message, spaces and punctuation dropped."""
    if mode not in SPLIT_MODES:
        raise ValueError(f"split mode {mode!r}: one of {', '.join(SPLIT_MODES)}")
    norm = normalise_with_offsets(text)
    if not norm.text.strip():
        return []
    result = []
    for m in _tokenizer(mode).tokenize(norm.text):
        surface = m.surface()
        pos = m.part_of_speech()[0]
        if not surface.strip() or (pos in _DROPPED_POS and not _is_emoji(surface)
                                   and not any(ch.isalnum() for ch in surface)):
            continue   # "。", "！", "-" (but "(株)" and "😢" stay)
        start, end = norm.span(m.begin(), m.end())
        result.append(Morpheme(surface, start, end, m.normalized_form(), pos))
    return result


def _is_emoji(text: str) -> bool:
    """😢 🙏 💦: how people say it on WhatsApp; kept as words (Sudachi tags them 補助記号)."""
    return any(unicodedata.category(ch) == "So" for ch in text)


# -- contacts inside Japanese text ---------------------------------------------------

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_URL = re.compile(r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]+[A-Za-z0-9/_\-=#]")


@dataclass(frozen=True)
class Contact:
    entity: str      # email | phone | url
    value: str       # as the user wrote it (the desk parses and validates it)
    start: int
    end: int


def find_contacts(text: str, region: str = "JP") -> list[Contact]:
    """E-mail addresses, phone numbers (`phonenumbers`, national numbers of `region`
    and international ones) and links in text that has no spaces around them:
    "電話番号は090-1234-5678です", "メールはtaro@example.jpでお願いします"."""
    import phonenumbers

    norm = normalise_with_offsets(text)
    found: list[Contact] = []

    def add(entity: str, start: int, end: int) -> None:
        o_start, o_end = norm.span(start, end)
        if not any(c.start < o_end and o_start < c.end for c in found):
            found.append(Contact(entity, text[o_start:o_end], o_start, o_end))

    for m in _URL.finditer(norm.text):
        add("url", m.start(), m.end())
    for m in _EMAIL.finditer(norm.text):
        add("email", m.start(), m.end())
    for match in phonenumbers.PhoneNumberMatcher(norm.text, region, leniency=phonenumbers.Leniency.VALID):
        add("phone", match.start, match.end)
    return sorted(found, key=lambda c: c.start)


def pipeline_language(text: str) -> str:
    """Which language's classifiers read a message (nlp/by_language.py): Japanese
    when it has Japanese script, else English. The script, not a statistical
    detector, so that training and parsing split the same way."""
    return "ja" if has_japanese(text) else "en"
