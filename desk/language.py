"""Which language a customer writes in, per message, and which one a conversation keeps.

Plain Python used by the bot's NLU (nlp/language.py puts the result on the message)
and by the desk (the chat's language, for the console's canned responses and
templates). Detection is lingua's (made for short texts, restricted to the languages
the desk speaks; docs/training.md compares it with py3langid on WhatsApp-length
messages). A conversation's language is sticky: a short reply such as "はい", "いいえ"
or "ok" says too little to switch it (SHORT_REPLIES), a real sentence or an explicit
request does.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

# The languages the bot and the console speak, ISO 639-1. A third one needs its
# catalogue, its knowledge and its NLU data (docs/training.md, "Adding a language").
LANGUAGES: tuple[str, ...] = ("en", "ja")
DEFAULT_LANGUAGE = "en"

# lingua's names for our codes.
_LINGUA = {"en": "ENGLISH", "ja": "JAPANESE", "es": "SPANISH", "pt": "PORTUGUESE", "ko": "KOREAN",
           "zh": "CHINESE", "fr": "FRENCH", "de": "GERMAN", "id": "INDONESIAN", "th": "THAI"}

# An explicit request for a language wins over detection ("日本語でお願いします",
# "English please", "can you speak japanese"): the language's name with a word that
# asks for it, or the name alone. Kept to short messages, and a name that is only the
# topic ("英語の宿題手伝って", "I ordered an English dictionary") switches nothing.
_NAMES = {"ja": r"日本語|にほんご|ニホンゴ|\bjapanese\b|\bnihongo\b",
          "en": r"英語|えいご|エイゴ|\benglish\b|\beigo\b"}
_ASK_BEFORE = r"(?:\bin|\bspeak(?:s|ing)?|\bswitch(?:ing)?\s+to|\bchange\s+to|\buse|\btalk\s+in|\breply\s+in)\s+"
_ASK_AFTER = (r"\s*(?:で|に(?:して|変え|かえ|切り替え|きりかえ)|(?:の方)?が(?:いい|良い|話|はな|でき|わかる|分かる)"
              r"|話|はな|お願い|おねがい|ok\b|please\b|pls\b|plz\b|only\b)")
_EXPLICIT = {code: re.compile(rf"{_ASK_BEFORE}(?:{name})|(?:{name}){_ASK_AFTER}|^\W*(?:{name})\W*$", re.IGNORECASE)
             for code, name in _NAMES.items()}
_EXPLICIT_MAX_CHARS = 40

_KANA = re.compile(r"[\u3040-\u30ff\uff66-\uff9f]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Said in no language: an email, a link, a @handle. "tanaka@example.jp" in a Japanese
# lead form must not switch the conversation to English.
_NOT_LANGUAGE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|(?:https?://|www\.)[\x21-\x7e]+"
                           r"|@[A-Za-z0-9_]+", re.IGNORECASE)

# How much text it takes to switch a conversation that already has a language.
_MIN_CJK_CHARS = 3      # "はい" (2) keeps it, "キャンセル" (5) switches
_MIN_LATIN_WORDS = 3    # "ok", "ok thanks" keep it, "where is my order" switches
_MIN_CONFIDENCE = 0.8
# Replies that say yes, no or ok and nothing else never switch a conversation, however
# many characters they have ("いいえ" is 3 kana, "no thank you" 3 words): a customer
# writing in English may answer "はい" or "いいえ" to a Japanese-looking button, and vice
# versa. Compared after NFKC, lower case, without spaces, punctuation, long-vowel marks
# and trailing です/ます forms ("はーい！", "いいえ。", "OKです" are these too).
SHORT_REPLIES = frozenset({
    "はい", "いいえ", "いえ", "うん", "ううん", "ええ", "いや", "いやいや", "そう", "ちがう", "違う",
    "おけ", "おっけ", "オッケ", "オーケ", "りょ", "りょうかい", "了解", "承知", "大丈夫", "だいじょうぶ",
    "ok", "okay", "okey", "k", "yes", "yeah", "yep", "yup", "no", "nope", "nah", "sure",
    "yespls", "yesplease", "nothanks", "nothankyou", "okthanks", "okthankyou", "yesthanks", "yesthankyou",
})
_REPLY_NOISE = re.compile(r"[\s\W_ー〜~]+", re.UNICODE)
_REPLY_POLITE = re.compile(r"(?:です|でした|でございます|ます|よ|ね|な)+$")


@dataclass(frozen=True)
class Detection:
    """The language of one message: `language` None when nothing could be told."""

    language: str | None
    confidence: float
    explicit: bool = False   # the user asked for this language
    decisive: bool = False   # long and sure enough to switch a conversation


def is_short_reply(text: str) -> bool:
    """A yes, no or ok and nothing more (SHORT_REPLIES): never decisive."""
    bare = _REPLY_NOISE.sub("", normalise(text).casefold())
    return bool(bare) and (bare in SHORT_REPLIES or _REPLY_POLITE.sub("", bare) in SHORT_REPLIES)


def normalise(text: str) -> str:
    """Width and compatibility forms folded (NFKC): full-width "ＯＫ" is "OK", half-width
    "ｷｬﾝｾﾙ" is "キャンセル", so that the NLU and the detector see one spelling."""
    return unicodedata.normalize("NFKC", text or "")


@functools.lru_cache(maxsize=8)
def _detector(languages: tuple[str, ...]):
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(*(getattr(Language, _LINGUA[x]) for x in languages)).build()


def _code(lingua_language, languages: tuple[str, ...]) -> str | None:
    for code in languages:
        if _LINGUA[code] == lingua_language.name:
            return code
    return None


def explicit_request(text: str, languages: tuple[str, ...] = LANGUAGES) -> str | None:
    """The language the user asks for by name in a short message, if any."""
    text = normalise(text)
    if len(text) > _EXPLICIT_MAX_CHARS:
        return None
    named = [code for code in languages if code in _NAMES and re.search(_NAMES[code], text, re.IGNORECASE)]
    if len(named) != 1:   # none, or a choice between two ("english or japanese?")
        return None
    return named[0] if _EXPLICIT[named[0]].search(text) else None


def detect(text: str, languages: tuple[str, ...] = LANGUAGES) -> Detection:
    """The language of one message among `languages`."""
    text = normalise(text).strip()
    if not text or text.startswith("/"):   # empty, or a button's payload
        return Detection(None, 0.0)
    asked = explicit_request(text, languages)
    if asked:
        return Detection(asked, 1.0, explicit=True, decisive=True)
    text = _NOT_LANGUAGE.sub(" ", text).strip()
    cjk = len(_CJK.findall(text))
    short = is_short_reply(text)
    if "ja" in languages and _KANA.search(text):
        # Kana is written only in Japanese: no statistics needed.
        return Detection("ja", 1.0, decisive=cjk >= _MIN_CJK_CHARS and not short)
    if not _WORD.search(text):
        return Detection(None, 0.0)        # emoji, digits, punctuation
    values = _detector(languages).compute_language_confidence_values(text)
    if not values:
        return Detection(None, 0.0)
    best = values[0]
    code, confidence = _code(best.language, languages), float(best.value)
    if code is None:
        return Detection(None, 0.0)
    if code == "ja" or cjk:
        decisive = cjk >= _MIN_CJK_CHARS
    else:
        decisive = len(_WORD.findall(text)) >= _MIN_LATIN_WORDS
    return Detection(code, confidence, decisive=decisive and not short and confidence >= _MIN_CONFIDENCE)


def next_language(current: str | None, text: str, languages: tuple[str, ...] = LANGUAGES) -> str | None:
    """The conversation's language after the user wrote `text`: the first message sets
    it, later ones switch it only when decisive or explicit."""
    found = detect(text, languages)
    if found.language is None:
        return current
    if current is None or found.explicit or found.decisive:
        return found.language
    return current
