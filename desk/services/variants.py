"""Which language variant an operator is offered first: canned responses and templates.

The chat's language (`chats.language`, what the customer last wrote in; None until they
wrote text) comes first, then the brand's default language, then the rest. Templates carry
Meta's language codes ("en_US", "ja"); a desk language maps to Meta's by its base
("ja" -> "ja"; "en" -> "en", "en_US", "en_GB", ...).

Plain Python over rows: the console (desk.web.api) orders and chooses with it.
"""
from __future__ import annotations

from typing import Iterable, Sequence, TypeVar

T = TypeVar("T")


def desk_language(meta_code: str | None) -> str:
    """Meta's template language code as the desk's language: "en_US" -> "en", "ja" -> "ja"."""
    return str(meta_code or "").replace("-", "_").split("_")[0].lower()


def preference(chat_language: str | None, default_language: str | None) -> tuple[str, ...]:
    """The languages to offer first, best first (no repeats, no Nones)."""
    out: list[str] = []
    for lang in (chat_language, default_language):
        if lang and lang not in out:
            out.append(lang)
    return tuple(out)


# Meta's codes for a desk language, the usual one first (desk.language.LANGUAGES).
META_CODES = {"en": ("en", "en_US", "en_GB"), "ja": ("ja",)}


def rank(language: str | None, preferred: Sequence[str]) -> tuple[int, int]:
    """Preferred languages first; within one, Meta's usual code first ("en", then "en_US", "en_GB")."""
    base = desk_language(language)
    codes = META_CODES.get(base, (base,))
    code = str(language or "").replace("-", "_")
    return (preferred.index(base) if base in preferred else len(preferred),
            codes.index(code) if code in codes else len(codes))


def ordered(items: Iterable[T], preferred: Sequence[str], language_of=lambda x: x.language) -> list[T]:
    """`items` with the preferred languages' first (stable: otherwise in the given order)."""
    return sorted(items, key=lambda x: rank(language_of(x), preferred))


def choose_template(templates: Iterable[T], name: str, preferred: Sequence[str],
                    language_of=lambda x: x.language, name_of=lambda x: x.name) -> T | None:
    """The variant of template `name` in the first preferred language that has one (for "en":
    "en", else "en_US", else "en_GB"); else any variant; None if there is no template `name`."""
    same = [t for t in templates if name_of(t) == name]
    if not same:
        return None
    return ordered(same, preferred, language_of)[0]
