"""The console's and the command line's message catalogs (desk/i18n), without a browser.

- en.json and ja.json have the same keys, the same {variables} per key, and no empty text;
- every key the pages use (tr("..."), data-i18n, data-i18n-attr, tr("prefix." + x)) exists;
- the pages show no English of their own in the places words go (text, title, label,
  placeholder, aria-label, help, intro, toasts, errors): it all comes from the catalogs;
- the services' English refusals are said in Japanese (desk.i18n.translate), the
  Accept-Language header is read by weight.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from desk import i18n

STATIC = Path(__file__).resolve().parents[2] / "desk" / "web" / "static"
PAGES = sorted(STATIC.glob("*.js")) + sorted(STATIC.glob("*.html"))
VAR = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def load(locale: str) -> dict:
    return json.loads((i18n.HOME / f"{locale}.json").read_text(encoding="utf-8"))


def test_the_catalogs_have_the_same_keys_and_variables():
    en, ja = load("en"), load("ja")
    assert sorted(set(en) ^ set(ja)) == [], "a key is missing from one catalog"
    for key in en:
        assert en[key].strip() and ja[key].strip(), f"{key} is empty"
        assert set(VAR.findall(en[key])) == set(VAR.findall(ja[key])), f"{key}: not the same {{variables}}"


def test_a_plural_has_its_other_form():
    for locale in i18n.LOCALES:
        cat = load(locale)
        for key in cat:
            if key.endswith(".one"):
                assert key[:-4] + ".other" in cat, f"{locale}: {key} without .other"


def used_keys() -> tuple[set[str], set[str]]:
    keys, prefixes = set(), set()
    for page in PAGES:
        src = page.read_text(encoding="utf-8")
        src = re.sub(r"^\s*//[^\n]*$", "", re.sub(r"/\*.*?\*/", "", src, flags=re.S), flags=re.M)  # comments show syntax
        keys |= {k for k in re.findall(r'\btr\(\s*"([^"]+)"', src) if not k.endswith(".")}
        keys |= set(re.findall(r'data-i18n="([^"]+)"', src))
        for attrs in re.findall(r'data-i18n-attr="([^"]+)"', src):
            keys |= {pair.split(":", 1)[1].strip() for pair in attrs.split(";")}
        prefixes |= set(re.findall(r'\btr\(\s*"([a-z_.]+\.)"\s*\+', src))
        prefixes |= set(re.findall(r'\btr\(\s*`([a-z_.]+\.)\$\{', src))
    return keys, prefixes


def test_every_key_the_pages_use_is_in_the_catalogs():
    en = load("en")
    keys, prefixes = used_keys()
    assert len(keys) > 400
    plural = {k.rsplit(".", 1)[0] for k in en if k.endswith((".one", ".other"))}
    missing = sorted(k for k in keys if k not in en and k not in plural)
    assert missing == [], f"keys used by the pages but not in the catalogs: {missing}"
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in en), f"no key starts with {prefix}"


# Where a page puts words; a literal there must be a catalog's (tr) or not words at all.
WORD_SLOT = re.compile(r'(?:\btext|\btitle|\blabel|placeholder|"aria-label"|\bhelp|\bintro|submitLabel)\s*:\s*'
                       r'("(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`)|(?:toast|new Error|new ApiError|fail)\(\s*'
                       r'("(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`)')
NOT_WORDS = {"WhatsApp", "USD", "order_update", "en, en_US, ja", "Asia/Tokyo", "English", "日本語", "×", "—"}


def words_in(literal: str) -> bool:
    body = re.sub(r"\$\{(?:[^{}]|\{[^{}]*\})*\}", "", literal[1:-1])
    return body.strip() not in NOT_WORDS and re.search(r"[A-Za-z]{2,}", body) is not None \
        and re.search(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}|^[A-Z][a-z]+", body.strip()) is not None


def test_the_pages_show_no_words_of_their_own():
    found = []
    for page in sorted(STATIC.glob("*.js")):
        src = page.read_text(encoding="utf-8")
        for m in WORD_SLOT.finditer(src):
            literal = m.group(1) or m.group(2)
            if words_in(literal):
                found.append(f"{page.name}:{src.count(chr(10), 0, m.start()) + 1}: {literal}")
    assert found == [], "words not from the catalogs:\n" + "\n".join(found)


def test_the_scan_would_see_a_word_of_its_own():
    assert words_in('"Pick this chat"') and words_in("`Transferred to ${name}.`") and words_in('"Waiting"')
    assert not words_in('"—"') and not words_in("`#/inbox/${id}`") and not words_in('"USD"')


def test_html_text_is_from_the_catalogs():
    """Every element of the static pages with words of its own is marked data-i18n."""
    for page in sorted(STATIC.glob("*.html")):
        src = page.read_text(encoding="utf-8")
        body = re.sub(r"<(script|style|svg|title)\b.*?</\1>", "", src, flags=re.S)
        for m in re.finditer(r"<([a-z0-9]+)([^>]*)>([^<]*[A-Za-z]{2,}[^<]*)<", body):
            tag, attrs, text = m.groups()
            if text.strip() in ("tsunagi",):
                continue
            assert "data-i18n=" in attrs, f"{page.name}: <{tag}> says {text.strip()!r} without data-i18n"


@pytest.mark.parametrize("message, japanese", [
    ("the shortcut /hours is already used", "ショートカット /hours はすでに使われています"),
    ("Only admins can do this.", "この操作は管理者だけができます。"),
    ("Alice Support has this chat: only its operator can answer.",
     "このチャットは Alice Support さんが担当しています。返信できるのは担当オペレーターだけです。"),
    ("This chat was closed by ada@acme.test (resolved). A closed chat cannot be answered.",
     "このチャットは ada@acme.test が終了しました（resolved）。終了したチャットには返信できません。"),
    ("Too many failed sign-ins. Try again in 3 minutes.", "ログインの失敗が多すぎます。3 分後にもう一度お試しください。"),
])
def test_a_services_english_refusal_is_said_in_japanese(message, japanese):
    assert i18n.translate("ja", message) == japanese
    assert i18n.translate("en", message) == message


def test_a_message_no_template_made_stays_as_it_is():
    assert i18n.translate("ja", "Graph API error 190: token expired") == "Graph API error 190: token expired"


@pytest.mark.parametrize("header, locale", [
    ("ja-JP,ja;q=0.9,en-US;q=0.8", "ja"), ("en-US,en;q=0.9,ja;q=0.8", "en"), ("fr-FR,ja;q=0.5", "ja"),
    ("de, en;q=0.1, ja;q=0.7", "ja"), ("fr", None), ("", None), (None, None), ("ja;q=0", None),
])
def test_accept_language_is_read_by_weight(header, locale):
    assert i18n.negotiate(header) == locale


def test_the_operators_choice_beats_the_browser():
    assert i18n.locale_of("en", "ja-JP") == "en"
    assert i18n.locale_of(None, "ja-JP") == "ja"
    assert i18n.locale_of(None, "fr") == "en"


def test_t_fills_variables_and_plurals():
    assert i18n.t("en", "credits.count", count=1) == "1 credit"
    assert i18n.t("en", "credits.count", count=3) == "3 credits"
    assert i18n.t("ja", "credits.count", count=3) == "3 クレジット"
    assert i18n.t("ja", "transfer.to_operator", operator="Alice") == "Alice に転送しました。"
    assert i18n.t("xx", "common.save") == "Save"           # an unknown locale: English
    assert i18n.t("ja", "no.such.key") == "no.such.key"
