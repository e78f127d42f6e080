"""Per-brand timeouts, bot idle rules, customer-facing texts and languages, with the
source document's bounds.

Every text an admin sets for customers (notices, the survey question, the bot idle
nudges) is a mapping language -> text, e.g. {"en": "...", "ja": "..."}; a plain
string (rows from before languages) is read as the brand default language's text.
`localized` picks the text for a chat's language.
"""
from __future__ import annotations

import dataclasses
import zoneinfo
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.language import DEFAULT_LANGUAGE, LANGUAGES
from desk.models import DeskSettingsRow, PhoneNumber, WhatsAppBusinessAccount, utcnow

UNATTENDED_MIN_MINUTES = 15
UNATTENDED_MAX_MINUTES = 31 * 24 * 60  # "1 month": 31 days
IDLE_MIN_MINUTES = 1
IDLE_MAX_MINUTES = 24 * 60


class SettingsError(ValueError):
    """A value outside what the product allows; the message says the allowed range."""


Texts = dict  # {language: text}, e.g. {"en": "Are you still there?", "ja": "まだいらっしゃいますか？"}
TEXT_MAX_CHARS = 1024  # WhatsApp's limit for a button message's body; notices stay within it too


def parse_texts(raw, default_language: str, what: str, *, allowed: tuple[str, ...] = LANGUAGES,
                max_chars: int = TEXT_MAX_CHARS) -> Texts:
    """A customer-facing text as {language: text}. A plain string is the text of
    `default_language` (settings saved before languages); "" stays "" (turned off)."""
    if raw is None:
        return {}
    if isinstance(raw, str):
        raw = {default_language: raw}
    if not isinstance(raw, dict):
        raise SettingsError(f"{what} is a text or an object of texts by language ({', '.join(allowed)})")
    out = {}
    for language, value in raw.items():
        if language not in allowed:
            raise SettingsError(f"{what}: {language!r} is not a language of the desk ({', '.join(allowed)})")
        value = "" if value is None else value
        if not isinstance(value, str):
            raise SettingsError(f"{what} in {language} is a text")
        value = value.strip()
        if len(value) > max_chars:
            raise SettingsError(f"{what} in {language} is at most {max_chars} characters")
        out[language] = value
    return out


def localized(texts: Texts | str | None, language: str | None, default_language: str = DEFAULT_LANGUAGE) -> str:
    """The text for `language`, else the brand's default language's, else English, else any."""
    if isinstance(texts, str):
        return texts
    texts = texts or {}
    for choice in (language, default_language, DEFAULT_LANGUAGE):
        if choice and texts.get(choice) is not None:
            return texts[choice]
    return next(iter(texts.values()), "")


@dataclass(frozen=True)
class IdleStep:
    after_minutes: int   # counted from the previous step (the first: from the user's last message)
    action: str          # "nudge" | "close"
    text: Texts          # {language: text}

    def text_in(self, language: str | None, default_language: str = DEFAULT_LANGUAGE) -> str:
        return localized(self.text, language, default_language)


CLOSE_KINDS = ("operator", "unattended", "idle", "bot")  # who or what closed a chat (desk.services.csat)
CSAT_MAX_DELAY_MINUTES = 24 * 60
CSAT_DEFAULT_QUESTION = {"en": "How did we do? Your rating helps us get better.",
                         "ja": "本日の対応はいかがでしたか？今後のサービス向上のため、評価をお聞かせください。"}


@dataclass(frozen=True)
class CsatSettings:
    """The satisfaction survey after a close (desk.services.csat)."""
    enabled: bool = False
    delay_minutes: int = 0                       # after the close
    skip: tuple[str, ...] = ("bot", "unattended")  # close kinds that get no survey
    question: Texts = field(default_factory=lambda: dict(CSAT_DEFAULT_QUESTION))  # {language: text}
    template: str | None = None                  # "name:language" of an approved utility template,
                                                 # for when the 24-hour window has closed
    enabled_at: str | None = None                # ISO time surveys were turned on: no survey of older closes

    def question_in(self, language: str | None, default_language: str = DEFAULT_LANGUAGE) -> str:
        return localized(self.question, language, default_language)


@dataclass(frozen=True)
class BrandSettings:
    unattended_close_minutes: int = 24 * 60
    idle_close_minutes: int = 60
    bot_enabled: bool = True
    bot_idle_rules: tuple[IdleStep, ...] = field(default_factory=tuple)
    csat: CsatSettings = field(default_factory=CsatSettings)
    notices: dict = field(default_factory=dict)   # {key: {language: text}}: the brand's customer notices
    languages: tuple[str, ...] = LANGUAGES        # the languages the brand speaks
    default_language: str = DEFAULT_LANGUAGE      # for a customer who has not written text yet
    time_zone: str = "UTC"                        # IANA name: dates in the console and reports

    def language_of(self, chat) -> str:
        """The language to write to this chat's customer in: theirs when the brand speaks
        it, else the brand's default."""
        language = getattr(chat, "language", None)
        return language if language in self.languages else self.default_language


def parse_languages(raw) -> tuple[str, ...]:
    """The brand's languages: a non-empty subset of desk.language.LANGUAGES (None = all)."""
    if raw is None:
        return LANGUAGES
    if not isinstance(raw, (list, tuple)) or not raw:
        raise SettingsError(f"languages is a non-empty list of {', '.join(LANGUAGES)}")
    unknown = [x for x in raw if x not in LANGUAGES]
    if unknown:
        raise SettingsError(f"{unknown[0]!r} is not a language of the desk (it speaks {', '.join(LANGUAGES)})")
    return tuple(dict.fromkeys(raw))


def parse_default_language(raw, languages: tuple[str, ...]) -> str:
    """The default language: one of the brand's languages (None = desk.language.DEFAULT_LANGUAGE,
    or the brand's first language when it does not speak that one)."""
    if raw is None:
        return DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in languages else languages[0]
    if raw not in languages:
        raise SettingsError(f"the default language must be one of the brand's languages "
                            f"({', '.join(languages)}), not {raw!r}")
    return raw


def parse_time_zone(raw) -> str:
    """An IANA time zone name such as Asia/Tokyo (None = UTC)."""
    if raw is None or raw == "":
        return "UTC"
    if not isinstance(raw, str) or len(raw) > 64:
        raise SettingsError("the time zone is an IANA name such as Asia/Tokyo or Europe/London")
    try:
        zoneinfo.ZoneInfo(raw)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"{raw!r} is not a time zone; use an IANA name such as Asia/Tokyo "
                            "or Europe/London") from None
    return raw


def parse_csat(raw: dict | None, default_language: str = DEFAULT_LANGUAGE) -> CsatSettings:
    if raw is None:
        return CsatSettings()
    if not isinstance(raw, dict):
        raise SettingsError("the survey settings are an object")
    base = CsatSettings()
    try:
        delay = int(raw.get("delay_minutes", base.delay_minutes))
    except (TypeError, ValueError):
        raise SettingsError("the survey delay is a number of minutes") from None
    if not 0 <= delay <= CSAT_MAX_DELAY_MINUTES:
        raise SettingsError(f"the survey goes out 0 to {CSAT_MAX_DELAY_MINUTES} minutes after the close, not {delay}")
    skip = raw.get("skip", list(base.skip))
    if not isinstance(skip, list) or any(k not in CLOSE_KINDS for k in skip):
        raise SettingsError(f"skip lists close kinds: {', '.join(CLOSE_KINDS)}")
    given = parse_texts(raw.get("question"), default_language, "the survey question")
    # A language left empty asks the default question of that language.
    question = {**CSAT_DEFAULT_QUESTION, **{k: v for k, v in given.items() if v}}
    template = raw.get("template") or None
    if template is not None and (not isinstance(template, str) or template.count(":") != 1):
        raise SettingsError("the survey template is given as name:language")
    return CsatSettings(bool(raw.get("enabled", False)), delay, tuple(sorted(set(skip))), question, template,
                        raw.get("enabled_at"))


def parse_notices(raw: dict | None, default_language: str = DEFAULT_LANGUAGE) -> dict[str, Texts]:
    """The brand's customer notices over the defaults, as {key: {language: text}}; ""
    turns one off in that language. A plain string (settings saved before languages)
    is the default language's text; the other languages keep their defaults."""
    import string

    from desk.services.notices import CUSTOMER_DEFAULTS, CUSTOMER_VARIABLES

    raw = raw or {}
    if not isinstance(raw, dict) or any(k not in CUSTOMER_DEFAULTS for k in raw):
        raise SettingsError(f"notices are {', '.join(CUSTOMER_DEFAULTS)}")
    out = {}
    for key, defaults in CUSTOMER_DEFAULTS.items():
        given = raw.get(key)
        if isinstance(given, str) and not given.strip():
            given = {language: "" for language in defaults}  # an old "" turned it off: in every language
        texts = {**defaults, **parse_texts(given, default_language, f"the {key} notice")}
        for language, value in texts.items():
            try:
                names = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
            except ValueError:
                raise SettingsError(f"the {key} notice has an unmatched {{ or }}") from None
            unknown = names - set(CUSTOMER_VARIABLES)
            if unknown:
                raise SettingsError(f"the {key} notice may use {{operator}}, {{department}} and {{brand}}, "
                                    f"not {{{sorted(unknown)[0]}}}")
        out[key] = texts
    return out


def csat_json(c: CsatSettings) -> dict:
    return {"enabled": c.enabled, "delay_minutes": c.delay_minutes, "skip": list(c.skip),
            "question": c.question, "template": c.template, "enabled_at": c.enabled_at}


def validate_timeouts(unattended_close_minutes: int | None = None,
                      idle_close_minutes: int | None = None) -> None:
    if unattended_close_minutes is not None and not (
            UNATTENDED_MIN_MINUTES <= unattended_close_minutes <= UNATTENDED_MAX_MINUTES):
        raise SettingsError(f"unattended chats close after 15 minutes to 1 month "
                            f"({UNATTENDED_MIN_MINUTES}–{UNATTENDED_MAX_MINUTES} minutes), "
                            f"not {unattended_close_minutes}")
    if idle_close_minutes is not None and not (IDLE_MIN_MINUTES <= idle_close_minutes <= IDLE_MAX_MINUTES):
        raise SettingsError(f"idle chats close after at most 24 hours "
                            f"({IDLE_MIN_MINUTES}–{IDLE_MAX_MINUTES} minutes), not {idle_close_minutes}")


def parse_idle_rules(raw: list, default_language: str = DEFAULT_LANGUAGE) -> tuple[IdleStep, ...]:
    steps = []
    for i, step in enumerate(raw or []):
        if not isinstance(step, dict):
            raise SettingsError(f"bot idle rule {i + 1} is not an object")
        try:
            after = int(step["after_minutes"])
        except (KeyError, TypeError, ValueError):
            raise SettingsError(f"bot idle rule {i + 1} needs after_minutes") from None
        action = step.get("action")
        if action not in ("nudge", "close") or after < 1:
            raise SettingsError(f"bot idle rule {i + 1}: action is nudge or close, after_minutes ≥ 1")
        steps.append(IdleStep(after, action, parse_texts(step.get("text") or "", default_language,
                                                         f"the text of bot idle rule {i + 1}")))
    if any(s.action == "close" for s in steps[:-1]):
        raise SettingsError("only the last bot idle rule may close the chat")
    return tuple(steps)


def idle_rules_json(steps: tuple[IdleStep, ...]) -> list[dict]:
    return [{"after_minutes": s.after_minutes, "action": s.action, "text": dict(s.text)} for s in steps]


def languages_json(cfg: BrandSettings) -> dict:
    """The brand's languages as the admin pages read and write them (`update(...)` takes
    the same keys): {"languages": ["ja", "en"], "default_language": "ja",
    "time_zone": "Asia/Tokyo", "available_languages": ["en", "ja"]}."""
    return {"languages": list(cfg.languages), "default_language": cfg.default_language,
            "time_zone": cfg.time_zone, "available_languages": list(LANGUAGES)}


async def get(session: AsyncSession, brand_id: int) -> BrandSettings:
    row = await session.get(DeskSettingsRow, brand_id)
    if row is None:
        return BrandSettings(bot_idle_rules=DEFAULT_BOT_IDLE_RULES, notices=parse_notices(None))
    languages = parse_languages(row.languages)
    default = parse_default_language(row.default_language if row.default_language in languages else None,
                                     languages)
    return BrandSettings(row.unattended_close_minutes, row.idle_close_minutes, row.bot_enabled,
                         parse_idle_rules(row.bot_idle_rules, default), parse_csat(row.csat, default),
                         parse_notices(row.notices, default), languages, default,
                         row.time_zone or "UTC")


async def default_language_of_number(session: AsyncSession, phone_number_id: str) -> str:
    """The default language of the brand a number belongs to (one indexed query; for a
    customer who has not written text yet)."""
    raw = (await session.execute(
        select(DeskSettingsRow.default_language)
        .join(WhatsAppBusinessAccount, WhatsAppBusinessAccount.brand_id == DeskSettingsRow.brand_id)
        .join(PhoneNumber, PhoneNumber.waba_id == WhatsAppBusinessAccount.id)
        .where(PhoneNumber.id == phone_number_id))).scalar_one_or_none()
    return raw if raw in LANGUAGES else DEFAULT_LANGUAGE


async def update(session: AsyncSession, brand_id: int, *, unattended_close_minutes: int | None = None,
                 idle_close_minutes: int | None = None, bot_enabled: bool | None = None,
                 bot_idle_rules: list | None = None, csat: dict | None = None,
                 notices: dict | None = None, languages: list | None = None,
                 default_language: str | None = None, time_zone: str | None = None) -> BrandSettings:
    """Change what is given (None: unchanged). Texts for customers are {language: text}
    (a plain string: the default language's). Raises SettingsError with the reason."""
    validate_timeouts(unattended_close_minutes, idle_close_minutes)
    current = await get(session, brand_id)
    if languages is not None:
        languages = list(parse_languages(languages))
    speaks = tuple(languages) if languages is not None else current.languages
    if default_language is not None:
        parse_default_language(default_language, speaks)
    elif current.default_language not in speaks:
        raise SettingsError(f"the default language {current.default_language!r} must stay one of the "
                            f"brand's languages: choose another default first")
    default = default_language or current.default_language
    if time_zone is not None:
        time_zone = parse_time_zone(time_zone)
    if bot_idle_rules is not None:
        parse_idle_rules(bot_idle_rules, default)
        bot_idle_rules = idle_rules_json(parse_idle_rules(bot_idle_rules, default))
    if csat is not None:
        if not isinstance(csat, dict):
            raise SettingsError("the survey settings are an object")
        new = parse_csat({k: v for k, v in csat.items() if k != "enabled_at"}, default)
        old = current.csat
        since = (old.enabled_at if old.enabled else None) or utcnow().isoformat() if new.enabled else None
        csat = csat_json(dataclasses.replace(new, enabled_at=since))
    if notices is not None:  # the texts given change, per language; the others stay as they are
        if not isinstance(notices, dict):
            raise SettingsError("notices are an object of texts")
        if any(k not in current.notices for k in notices):
            parse_notices(notices, default)  # the error names the known keys
        merged = {key: dict(texts) for key, texts in current.notices.items()}
        for key, given in notices.items():
            merged[key].update(parse_texts(given, default, f"the {key} notice"))
        notices = parse_notices(merged, default)
    row = await session.get(DeskSettingsRow, brand_id)
    if row is None:
        row = DeskSettingsRow(brand_id=brand_id, bot_idle_rules=idle_rules_json(DEFAULT_BOT_IDLE_RULES))
        session.add(row)
    if unattended_close_minutes is not None:
        row.unattended_close_minutes = unattended_close_minutes
    if idle_close_minutes is not None:
        row.idle_close_minutes = idle_close_minutes
    if bot_enabled is not None:
        row.bot_enabled = bot_enabled
    if bot_idle_rules is not None:
        row.bot_idle_rules = bot_idle_rules
    if csat is not None:
        row.csat = csat
    if notices is not None:
        row.notices = notices
    if languages is not None:
        row.languages = languages
    if default_language is not None:
        row.default_language = default_language
    if time_zone is not None:
        row.time_zone = time_zone
    await session.flush()
    return await get(session, brand_id)


DEFAULT_BOT_IDLE_RULES = (
    IdleStep(10, "nudge", {"en": "Are you still there? Ask me anything, or write *agent* to talk to a person.",
                           "ja": "まだいらっしゃいますか？ご質問があればお気軽にどうぞ。担当者と話したい場合は「担当者」と入力してください。"}),
    IdleStep(20, "close", {"en": "I'll close this chat for now. Write again any time and I'll be here.",
                           "ja": "このチャットはいったん終了いたします。またいつでもメッセージをお送りください。"}),
)
