"""Per-brand timeouts and bot idle rules, with the source document's bounds."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import DeskSettingsRow, utcnow

UNATTENDED_MIN_MINUTES = 15
UNATTENDED_MAX_MINUTES = 31 * 24 * 60  # "1 month": 31 days
IDLE_MIN_MINUTES = 1
IDLE_MAX_MINUTES = 24 * 60


class SettingsError(ValueError):
    """A value outside what the product allows; the message says the allowed range."""


@dataclass(frozen=True)
class IdleStep:
    after_minutes: int   # counted from the previous step (the first: from the user's last message)
    action: str          # "nudge" | "close"
    text: str


CLOSE_KINDS = ("operator", "unattended", "idle", "bot")  # who or what closed a chat (desk.services.csat)
CSAT_MAX_DELAY_MINUTES = 24 * 60


@dataclass(frozen=True)
class CsatSettings:
    """The satisfaction survey after a close (desk.services.csat)."""
    enabled: bool = False
    delay_minutes: int = 0                       # after the close
    skip: tuple[str, ...] = ("bot", "unattended")  # close kinds that get no survey
    question: str = "How did we do? Your rating helps us get better."
    template: str | None = None                  # "name:language" of an approved utility template,
                                                 # for when the 24-hour window has closed
    enabled_at: str | None = None                # ISO time surveys were turned on: no survey of older closes


@dataclass(frozen=True)
class BrandSettings:
    unattended_close_minutes: int = 24 * 60
    idle_close_minutes: int = 60
    bot_enabled: bool = True
    bot_idle_rules: tuple[IdleStep, ...] = field(default_factory=tuple)
    csat: CsatSettings = field(default_factory=CsatSettings)
    notices: dict = field(default_factory=dict)   # {key: text}: the brand's customer notices


def parse_csat(raw: dict | None) -> CsatSettings:
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
    question = str(raw.get("question") or base.question).strip()
    if len(question) > 1024:
        raise SettingsError("the survey question is at most 1024 characters (WhatsApp's limit)")
    template = raw.get("template") or None
    if template is not None and (not isinstance(template, str) or template.count(":") != 1):
        raise SettingsError("the survey template is given as name:language")
    return CsatSettings(bool(raw.get("enabled", False)), delay, tuple(sorted(set(skip))), question, template,
                        raw.get("enabled_at"))


def parse_notices(raw: dict | None) -> dict[str, str]:
    """The brand's customer notices over the defaults; "" turns one off."""
    import string

    from desk.services.notices import CUSTOMER_DEFAULTS, CUSTOMER_VARIABLES

    raw = raw or {}
    if not isinstance(raw, dict) or any(k not in CUSTOMER_DEFAULTS for k in raw):
        raise SettingsError(f"notices are {', '.join(CUSTOMER_DEFAULTS)}")
    out = {}
    for key, default in CUSTOMER_DEFAULTS.items():
        value = raw.get(key, default)
        value = "" if value is None else str(value).strip()
        if len(value) > 1024:
            raise SettingsError(f"the {key} notice is at most 1024 characters")
        try:
            names = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
        except ValueError:
            raise SettingsError(f"the {key} notice has an unmatched {{ or }}") from None
        unknown = names - set(CUSTOMER_VARIABLES)
        if unknown:
            raise SettingsError(f"the {key} notice may use {{operator}}, {{department}} and {{brand}}, "
                                f"not {{{sorted(unknown)[0]}}}")
        out[key] = value
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


def parse_idle_rules(raw: list) -> tuple[IdleStep, ...]:
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
        steps.append(IdleStep(after, action, str(step.get("text") or "")))
    if any(s.action == "close" for s in steps[:-1]):
        raise SettingsError("only the last bot idle rule may close the chat")
    return tuple(steps)


async def get(session: AsyncSession, brand_id: int) -> BrandSettings:
    row = await session.get(DeskSettingsRow, brand_id)
    if row is None:
        return BrandSettings(bot_idle_rules=DEFAULT_BOT_IDLE_RULES, notices=parse_notices(None))
    return BrandSettings(row.unattended_close_minutes, row.idle_close_minutes, row.bot_enabled,
                         parse_idle_rules(row.bot_idle_rules), parse_csat(row.csat), parse_notices(row.notices))


async def update(session: AsyncSession, brand_id: int, *, unattended_close_minutes: int | None = None,
                 idle_close_minutes: int | None = None, bot_enabled: bool | None = None,
                 bot_idle_rules: list | None = None, csat: dict | None = None,
                 notices: dict | None = None) -> BrandSettings:
    validate_timeouts(unattended_close_minutes, idle_close_minutes)
    if bot_idle_rules is not None:
        parse_idle_rules(bot_idle_rules)
    if csat is not None:
        if not isinstance(csat, dict):
            raise SettingsError("the survey settings are an object")
        new = parse_csat({k: v for k, v in csat.items() if k != "enabled_at"})
        old = (await get(session, brand_id)).csat
        since = (old.enabled_at if old.enabled else None) or utcnow().isoformat() if new.enabled else None
        csat = csat_json(dataclasses.replace(new, enabled_at=since))
    if notices is not None:  # the texts given change; the others stay as they are
        if not isinstance(notices, dict):
            raise SettingsError("notices are an object of texts")
        notices = parse_notices({**(await get(session, brand_id)).notices, **notices})
    row = await session.get(DeskSettingsRow, brand_id)
    if row is None:
        row = DeskSettingsRow(brand_id=brand_id, bot_idle_rules=[
            {"after_minutes": s.after_minutes, "action": s.action, "text": s.text}
            for s in DEFAULT_BOT_IDLE_RULES])
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
    await session.flush()
    return await get(session, brand_id)


DEFAULT_BOT_IDLE_RULES = (
    IdleStep(10, "nudge", "Are you still there? Ask me anything, or write *agent* to talk to a person."),
    IdleStep(20, "close", "I'll close this chat for now. Write again any time and I'll be here."),
)
