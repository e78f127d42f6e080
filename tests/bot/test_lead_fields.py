"""Parsing and validation of what users type into the lead form (plain Python)."""
from __future__ import annotations

import pytest

from actions.lead_fields import (NO_COMPANY, Correction, clean_company, clean_email,
                                 clean_interest, clean_name, clean_phone, is_question,
                                 parse_correction, region_of, whatsapp_phone)


@pytest.mark.parametrize("text, expected", [
    ("kerry@acme.co.uk", "kerry@acme.co.uk"),
    ("my email is Kerry.Fisher@ACME.com.", "Kerry.Fisher@acme.com"),
    ("Kerry <kerry@acme.co.uk>", "kerry@acme.co.uk"),
    ("o'neil+sales@mail.example.org", "o'neil+sales@mail.example.org"),
    ("kerry@localhost", None),
    ("kerry@@acme.com", None),
    ("kerry at acme dot com", None),
    (".kerry@acme.com", None),
    ("kerry..f@acme.com", None),
    ("kerry@acme.c0m", None),
    ("kerry@-acme.com", None),
    ("", None),
])
def test_clean_email(text, expected):
    assert clean_email(text) == expected


@pytest.mark.parametrize("text, region, expected", [
    ("0044-20-7946-0958", "GB", "+442079460958"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("+1 202-555-0123", "GB", "+12025550123"),
    ("(202) 555-0123", "US", "+12025550123"),
    ("12345", "GB", None),
    ("call me maybe", "GB", None),
])
def test_clean_phone(text, region, expected):
    assert clean_phone(text, region) == expected


def test_the_whatsapp_number_gives_the_region_and_the_default_phone():
    assert region_of("12025550123") == "US" and region_of("447700900123") == "GB"
    assert region_of(None) == "GB" and region_of("999") == "GB"
    assert whatsapp_phone("447700900123") == "+447700900123"
    assert whatsapp_phone(None) is None and whatsapp_phone("abc") is None


@pytest.mark.parametrize("text, expected", [
    ("Kerry Fisher", "Kerry Fisher"),
    ("my name is Tom Baker", "Tom Baker"),
    ("I'm Aiko Tanaka", "Aiko Tanaka"),
    ("Jean-Luc O'Neil", "Jean-Luc O'Neil"),
    ("José Núñez", "José Núñez"),
    ("yes", None),
    ("I would like a quote", None),
    ("kerry@acme.co.uk", None),
    ("R2D2", None),
    ("one two three four five six", None),
])
def test_clean_name(text, expected):
    assert clean_name(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Acme Ltd", "Acme Ltd"),
    ("I work at Northwind Traders", "Northwind Traders"),
    ("the company is Blue Fern Cafe.", "Blue Fern Cafe"),
    ("none", NO_COMPANY), ("just me", NO_COMPANY), ("N/A", NO_COMPANY),
    ("ok", None), ("kerry@acme.co.uk", None),
])
def test_clean_company(text, expected):
    assert clean_company(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("corporate gifts", "Corporate gifts"),
    ("200 branded mugs for our office", "200 branded mugs for our office"),
    ("ok", None), ("x", None), ("y" * 501, None),
])
def test_clean_interest(text, expected):
    assert clean_interest(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("actually my email is kerry@acme.com", Correction("lead_email", "kerry@acme.com")),
    ("Sorry, the company name should be Acme Holdings.", Correction("lead_company", "Acme Holdings")),
    ("no wait, my name is Priya S", Correction("lead_name", "Priya S")),
    ("change my phone number to 020 7946 0958", Correction("lead_phone", "020 7946 0958")),
    ("email: tom@northwind.example", Correction("lead_email", "tom@northwind.example")),
    ("what is my email", None),
    ("Acme Ltd", None),
])
def test_parse_correction(text, expected):
    assert parse_correction(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("how much is shipping", True), ("do you ship to spain", True), ("bulk order?", True),
    ("Acme Ltd", False), ("Bulk order", False), ("", False),
])
def test_is_question(text, expected):
    assert is_question(text) is expected


# -- Japanese ---------------------------------------------------------------------------

from hypothesis import given, settings as hsettings, strategies as st  # noqa: E402

from actions.lead_fields import phones_in, regions_for  # noqa: E402

FAMILY = ["田中", "佐藤", "鈴木", "高橋", "渡辺", "たなか", "さとう", "タナカ", "山﨑", "長谷川"]
GIVEN = ["太郎", "花子", "はなこ", "ゆか", "ケン", "翔太", "美咲", "さくら", "大輔", "あやの"]
SUFFIXES = ["", "です", "でーす", "と申します", "といいます", "です。", "だよ"]
SPACES = ["", " ", "\u3000", "  "]


@hsettings(max_examples=150, deadline=None)
@given(st.sampled_from(FAMILY), st.sampled_from(GIVEN), st.sampled_from(SPACES), st.sampled_from(SUFFIXES),
       st.booleans())
def test_japanese_names_keep_family_name_first_without_the_polite_ending(family, given_name, space, suffix,
                                                                          prefixed):
    text = ("名前は" if prefixed else "") + family + space + given_name + suffix
    expected = family + (" " if space else "") + given_name
    assert clean_name(text) == expected


@pytest.mark.parametrize("text", ["はい", "見積もりがほしいです", "注文したいんですけど", "よろしくお願いします",
                                  "送料はいくらですか？", "キャンセル", "田中太郎090-1234-5678"])
def test_japanese_sentences_are_not_names(text):
    assert clean_name(text) is None


MOBILE = st.tuples(st.sampled_from(["70", "80", "90"]), st.integers(1000, 9999), st.integers(0, 9999))


def _full_width(text: str) -> str:
    return text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789+-"})


@hsettings(max_examples=150, deadline=None)
@given(MOBILE, st.sampled_from(["0{a}-{b}-{c}", "0{a}{b}{c}", "+81 {a} {b} {c}", "+81-{a}-{b}-{c}",
                                "0{a} {b} {c}", "(0{a}) {b}-{c}"]),
       st.booleans())
def test_japanese_mobile_numbers_in_any_usual_form(parts, form, full_width):
    a, b, c = parts[0], f"{parts[1]:04d}", f"{parts[2]:04d}"
    text = form.format(a=a, b=b, c=c)
    text = _full_width(text) if full_width else text
    assert clean_phone(text, regions_for(None, "ja")) == f"+81{a}{b}{c}"
    assert clean_phone(text, regions_for("819012345678")) == f"+81{a}{b}{c}"   # +81 WhatsApp number
    assert phones_in(f"電話番号は{text}です", ("JP",)) == (f"+81{a}{b}{c}",)


def test_the_region_is_japan_first_in_a_japanese_conversation():
    assert regions_for(None, "ja") == ("JP", "GB")
    assert regions_for("447700900123", "ja") == ("JP", "GB")
    assert regions_for("819012345678") == ("JP",)
    assert regions_for("447700900123", "en") == ("GB",)
    # Japan first: "020 7946 0958" is a valid Japanese number too; with its code it is the UK one
    assert clean_phone("020 7946 0958", regions_for("447700900123", "ja")) == "+81207946 0958".replace(" ", "")
    assert clean_phone("+44 20 7946 0958", regions_for("447700900123", "ja")) == "+442079460958"
    assert clean_phone("07911 123456", regions_for("447700900123", "ja")) == "+447911123456"  # not valid in JP


KATAKANA = st.text(alphabet="アイウエオカキクケコサシスセソタチツテトナニヌネノマミムメモラリルレロン", min_size=2,
                   max_size=8)


@hsettings(max_examples=100, deadline=None)
@given(KATAKANA, st.sampled_from(["株式会社{x}", "{x}株式会社", "(株){x}", "（株）{x}", "㈱{x}", "有限会社{x}",
                                   "合同会社{x}"]),
       st.sampled_from(["", "です", "で働いています", "に勤めてます"]), st.booleans())
def test_japanese_company_names_in_their_usual_forms(name, form, suffix, prefixed):
    import unicodedata

    company = form.format(x=name)
    text = ("会社名は" if prefixed else "") + company + suffix
    assert clean_company(text) == unicodedata.normalize("NFKC", company)


@pytest.mark.parametrize("text", ["なし", "個人です", "個人で利用します", "特にないです", "ないです"])
def test_no_company_in_japanese(text):
    expected = NO_COMPANY if text != "個人で利用します" else "個人で利用します"  # a sentence stays as typed
    assert clean_company(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("メールは tanaka@example.jp です", "tanaka@example.jp"),
    ("tanaka＠example.jp", "tanaka@example.jp"),
    ("ｔａｎａｋａ＠ＥＸＡＭＰＬＥ．ＪＰ", "tanaka@example.jp"),
    ("アドレスはhana.y+shop@mail.example.co.jpでお願いします！", "hana.y+shop@mail.example.co.jp"),
    ("たなか＠れい.jp", None),
])
def test_emails_in_japanese_text(text, expected):
    assert clean_email(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("あ、メールは tanaka@example.jp に変更してください", Correction("lead_email", "tanaka@example.jp")),
    ("すみません、電話番号は090-1234-5678です", Correction("lead_phone", "090-1234-5678")),
    ("会社名：クモ株式会社", Correction("lead_company", "クモ株式会社")),
    ("名前は佐藤花子でお願いします", Correction("lead_name", "佐藤花子")),
    ("メールを hana@example.jp に変えて", Correction("lead_email", "hana@example.jp")),
    ("田中です", None), ("メールアドレスを教えて", None),
])
def test_japanese_corrections(text, expected):
    assert parse_correction(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("送料はいくらですか", True), ("返品できる？", True), ("いつ届きますか", True), ("支払い方法は何がある", True),
    ("田中ゆか", False), ("株式会社クモ", False), ("名入れマグカップ200個", False),
])
def test_japanese_questions(text, expected):
    assert is_question(text) is expected
