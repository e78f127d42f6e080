"""The console's and the command line's words, in every language the desk speaks.

One home for user-facing text outside the bot: `en.json` and `ja.json` beside this
module are flat catalogs `{key: text}` with the same keys (tests/console/test_i18n.py
compares them). The console's pages read them through `/i18n/catalogs.js`
(desk.web.app); Python reads them with `t`.

- Variables are `{name}`; a key with `.one` / `.other` variants is a plural, chosen by
  the `count` variable (Japanese has only `.other`).
- `svc.*` keys are the English words of the services' refusals (desk/services raise
  English): `translate` finds the template a message was made from and says it in the
  operator's language, so services stay free of request locales.
- `locale_of` chooses: the operator's own setting, else the request's Accept-Language,
  else English.
"""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path

LOCALES = ("en", "ja")
DEFAULT_LOCALE = "en"
HOME = Path(__file__).resolve().parent
_VAR = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@functools.lru_cache(maxsize=None)
def catalog(locale: str) -> dict[str, str]:
    """The catalog of a locale (LOCALES), as stored."""
    if locale not in LOCALES:
        raise KeyError(f"no catalog for {locale!r}")
    return json.loads((HOME / f"{locale}.json").read_text(encoding="utf-8"))


def fmt(template: str, values: dict) -> str:
    """`{name}` replaced by its value; an unknown `{x}` stays as written."""
    return _VAR.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), template)


def t(locale: str | None, key: str, **values) -> str:
    """The text of `key` in `locale` (falling back to English, then to the key itself)."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    if "count" in values:
        form = "one" if values["count"] == 1 else "other"
        for candidate in (f"{key}.{form}", f"{key}.other"):
            for loc in (locale, DEFAULT_LOCALE):
                if candidate in catalog(loc):
                    return fmt(catalog(loc)[candidate], values)
    for loc in (locale, DEFAULT_LOCALE):
        if key in catalog(loc):
            return fmt(catalog(loc)[key], values)
    return key


def negotiate(accept_language: str | None) -> str | None:
    """The first of LOCALES an Accept-Language header asks for (by weight), or None."""
    asked = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        base = tag.strip().lower().split("-")[0]
        if base and weight > 0:
            asked.append((-weight, i, base))
    for _, _, base in sorted(asked):
        if base in LOCALES:
            return base
    return None


def locale_of(operator_locale: str | None, accept_language: str | None = None) -> str:
    """The operator's own choice, else what the browser asks for, else English."""
    if operator_locale in LOCALES:
        return operator_locale
    return negotiate(accept_language) or DEFAULT_LOCALE


@functools.lru_cache(maxsize=None)
def _service_patterns() -> tuple[tuple[re.Pattern, str], ...]:
    """The English `svc.*` templates as patterns, the most specific (longest) first."""
    patterns = []
    for key, english in catalog(DEFAULT_LOCALE).items():
        if not key.startswith("svc."):
            continue
        parts, last = [], 0
        for m in _VAR.finditer(english):
            parts.append(re.escape(english[last:m.start()]))
            parts.append(f"(?P<{m.group(1)}>.+?)")
            last = m.end()
        parts.append(re.escape(english[last:]))
        patterns.append((re.compile("^" + "".join(parts) + "$", re.S), key, len(english)))
    patterns.sort(key=lambda p: -p[2])
    return tuple((p, key) for p, key, _ in patterns)


def translate(locale: str | None, message: str) -> str:
    """A service's English message in `locale`; unchanged if no `svc.*` template made it."""
    if locale not in LOCALES or locale == DEFAULT_LOCALE or not isinstance(message, str):
        return message
    for pattern, key in _service_patterns():
        m = pattern.match(message)
        if m and key in catalog(locale):
            return fmt(catalog(locale)[key], m.groupdict())
    return message


def supported(locale) -> str:
    """`locale` if the desk speaks it; else a ValueError naming the ones it does."""
    if locale not in LOCALES:
        raise ValueError(t(DEFAULT_LOCALE, "svc.locale_unknown", locales=", ".join(LOCALES)))
    return locale
