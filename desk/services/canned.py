"""Canned responses of a brand: the texts operators insert by typing `/shortcut`.

A text may use the variables {name} (the customer's WhatsApp profile name, "there"
without one), {operator} (the inserting operator's name) and {brand}; any other
`{...}` is refused when the canned response is saved.

Each has a language (desk.language.LANGUAGES; English by default): the same shortcut may
exist once per language, and the console offers the chat's language first
(desk.services.variants).

The one set of rules for them, used by the console (desk.web.admin) and the admin
command line (desk.cli.admin) alike. A refusal is a CannedError whose message says
what to change.
"""
from __future__ import annotations

import re

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from desk.language import DEFAULT_LANGUAGE, LANGUAGES
from desk.models import CannedResponse

SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
TITLE_MAX = 200
TEXT_MAX = 4096  # a WhatsApp text message


# The variables a text may use, filled in for the chat when an operator inserts it.
VARIABLES = ("name", "operator", "brand")
NAME_FALLBACK = "there"  # "Hi {name}" to a customer without a WhatsApp profile name: "Hi there"
# ... per language: "{name}様" to a customer without a name is "お客様" (the usual polite form).
NAME_FALLBACKS = {"en": NAME_FALLBACK, "ja": "お客"}
_VARIABLE = re.compile(r"\{([^{}\s]*)\}")
LANGUAGE_NAMES = {"en": "English", "ja": "Japanese"}  # in the refusals' words (English, like every service)


class CannedError(ValueError):
    """A canned response the desk refuses; the message says why."""


def check_variables(text: str) -> None:
    """Refuse a text naming a variable the desk cannot fill (`{nmae}`, `{}`)."""
    unknown = sorted({m.group(1) for m in _VARIABLE.finditer(text)} - set(VARIABLES), key=str)
    if unknown:
        listed = ", ".join("{" + u + "}" for u in unknown)
        raise CannedError(f"unknown variable{'s' * (len(unknown) > 1)} {listed} in the text: a canned response "
                          "may use {name} (the customer's WhatsApp name), {operator} (yours) and {brand}")


def variables(*, customer_name: str | None, operator_name: str | None, brand_name: str | None,
              language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """The values of the variables for one chat and operator, for a text in `language`."""
    return {"name": " ".join(str(customer_name or "").split()) or NAME_FALLBACKS.get(language, NAME_FALLBACK),
            "operator": " ".join(str(operator_name or "").split()),
            "brand": " ".join(str(brand_name or "").split())}


def fill(text: str, values: dict[str, str]) -> str:
    """The text with its variables filled in (what the console inserts into the reply)."""
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def shortcut_of(value) -> str:
    """`/Hours ` -> `hours`: without the slash, in lower case; refused unless 1 to 40
    of a-z, 0-9, - and _, starting with a letter or a digit."""
    shortcut = str(value or "").strip().lstrip("/").lower()
    if not SHORTCUT.match(shortcut):
        raise CannedError("a shortcut has 1 to 40 characters: lower-case letters, digits, - and _, "
                          "starting with a letter or a digit")
    return shortcut


def fields(shortcut, title, text) -> tuple[str, str, str]:
    """A canned response's shortcut, title and text, normalized and checked."""
    shortcut = shortcut_of(shortcut)
    title = " ".join(str(title or "").split())
    if not title or len(title) > TITLE_MAX:
        raise CannedError(f"a title has 1 to {TITLE_MAX} characters")
    text = str(text or "").strip()
    if not text or len(text) > TEXT_MAX:
        raise CannedError(f"the text has 1 to {TEXT_MAX} characters (WhatsApp's limit)")
    check_variables(text)
    return shortcut, title, text


def language_of(value) -> str:
    """A canned response's language: one of desk.language.LANGUAGES (None: the default)."""
    language = DEFAULT_LANGUAGE if value in (None, "") else str(value).strip().lower()
    if language not in LANGUAGES:
        raise CannedError(f"the language is one of {', '.join(LANGUAGES)}, not {value}")
    return language


def _taken_message(shortcut: str, language: str = DEFAULT_LANGUAGE) -> str:
    if language == DEFAULT_LANGUAGE:
        return f"the shortcut /{shortcut} is already used"
    return f"the shortcut /{shortcut} is already used in {LANGUAGE_NAMES.get(language, language)}"


async def _taken(session: AsyncSession, brand_id: int, shortcut: str, but: int | None = None,
                 language: str = DEFAULT_LANGUAGE) -> bool:
    query = select(CannedResponse.id).where(CannedResponse.brand_id == brand_id,
                                            CannedResponse.shortcut == shortcut,
                                            CannedResponse.language == language)
    if but is not None:
        query = query.where(CannedResponse.id != but)
    return (await session.execute(query)).first() is not None


async def add(session: AsyncSession, brand_id: int, shortcut, title, text, language=None) -> CannedResponse:
    shortcut, title, text = fields(shortcut, title, text)
    language = language_of(language)
    if await _taken(session, brand_id, shortcut, language=language):
        raise CannedError(_taken_message(shortcut, language))
    canned = CannedResponse(brand_id=brand_id, shortcut=shortcut, title=title, text=text, language=language)
    try:
        async with session.begin_nested():
            session.add(canned)
    except IntegrityError:  # added at the same moment by someone else
        raise CannedError(_taken_message(shortcut, language)) from None
    return canned


async def update(session: AsyncSession, brand_id: int, canned_id: int, shortcut, title,
                 text, language=None) -> CannedResponse | None:
    """The changed canned response (`language` None: unchanged); None if the brand has none with this id."""
    canned = await session.get(CannedResponse, canned_id)
    if canned is None or canned.brand_id != brand_id:
        return None
    shortcut, title, text = fields(shortcut, title, text)
    language = canned.language if language in (None, "") else language_of(language)
    if await _taken(session, brand_id, shortcut, but=canned_id, language=language):
        raise CannedError(_taken_message(shortcut, language))
    canned.shortcut, canned.title, canned.text, canned.language = shortcut, title, text, language
    return canned


async def delete(session: AsyncSession, brand_id: int, canned_id: int) -> bool:
    """True if the brand's canned response was deleted (False: no such one)."""
    result = await session.execute(sql_delete(CannedResponse).where(
        CannedResponse.id == canned_id, CannedResponse.brand_id == brand_id))
    return result.rowcount == 1
