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
