"""A WhatsApp user's market, from their number (the `phonenumbers` library).

The rate table names 25 countries (plus the US and Canada as "North America") and
groups the rest into regions as Meta's conversation-pricing page did in 2022; any
country in none of them is "Other". A number's country is its region in the
numbering plan (so +1 787 is Puerto Rico, not the US); a number whose area code is
unassigned falls back to the main country of its calling code.
"""
from __future__ import annotations

import phonenumbers

from desk.billing.rates import FALLBACK_MARKET

COUNTRY_MARKETS = {
    "AR": "Argentina", "BR": "Brazil", "CL": "Chile", "CO": "Colombia", "EG": "Egypt",
    "FR": "France", "DE": "Germany", "IN": "India", "ID": "Indonesia", "IL": "Israel",
    "IT": "Italy", "MY": "Malaysia", "MX": "Mexico", "NL": "Netherlands", "NG": "Nigeria",
    "PK": "Pakistan", "PE": "Peru", "RU": "Russia", "SA": "Saudi Arabia", "ZA": "South Africa",
    "ES": "Spain", "TR": "Turkey", "AE": "United Arab Emirates", "GB": "United Kingdom",
    "US": "North America", "CA": "North America",
}

REGION_MARKETS = {
    "Rest of Africa": (
        "DZ AO BJ BW BF BI CM TD CG ER ET GA GM GH GW CI KE LS LR LY MG MW ML MR MA MZ NA NE "
        "RW SN SL SO SS SD SZ TZ TG TN UG ZM"),
    "Rest of Asia Pacific": (
        "AF AU BD KH CN HK JP LA MN NP NZ PG PH SG LK TW TJ TH TM UZ VN"),
    "Rest of Central & Eastern Europe": (
        "AL AM AZ BY BG HR CZ GE GR HU LV LT MK MD PL RO RS SK SI UA"),
    "Rest of Latin America": (
        "BO CR DO EC SV GT HT HN JM NI PA PY PR UY VE"),
    "Rest of Middle East": "BH IQ JO KW LB OM QA YE",
    "Rest of Western Europe": "AT BE DK FI IE NO PT SE CH",
}

MARKET_OF_REGION = dict(COUNTRY_MARKETS)
for _market, _codes in REGION_MARKETS.items():
    for _code in _codes.split():
        MARKET_OF_REGION[_code] = _market


class MarketError(ValueError):
    """Not a phone number a market can be read from."""


def region_of(wa_id: str) -> str | None:
    """The ISO country code of a WhatsApp id (digits with country code, as Meta sends them),
    or of a business-scoped user id (BSUID), which starts with it (`US.1349...`)."""
    from cloudapi.ids import bsuid_country

    if bsuid_country((wa_id or "").strip()):
        return bsuid_country(wa_id.strip())
    text = (wa_id or "").strip().lstrip("+")
    if not text.isdigit() or not 7 <= len(text) <= 15:
        raise MarketError(f"not a WhatsApp id (7 to 15 digits with the country code): {wa_id!r}")
    try:
        number = phonenumbers.parse("+" + text, None)
    except phonenumbers.NumberParseException:
        raise MarketError(f"no country calling code in {wa_id!r}") from None
    region = phonenumbers.region_code_for_number(number)
    if not region or region == "ZZ":
        region = phonenumbers.region_code_for_country_code(number.country_code)
    return None if region in (None, "ZZ", "001") else region


def market_for(wa_id: str) -> str:
    """The rate table's market of a WhatsApp user; "Other" for unlisted countries."""
    region = region_of(wa_id)
    return MARKET_OF_REGION.get(region or "", FALLBACK_MARKET)
