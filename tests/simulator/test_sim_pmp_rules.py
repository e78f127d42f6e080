"""The simulator's per-message `pricing` follows Meta's rules by the message's date:
until 2026-09-30 service messages and utility templates inside the window are free;
from 2026-10-01 a number's service messages beyond 1,000 a month and utility templates
are `regular`. The date is passed in: no dependence on today's."""
from __future__ import annotations

import datetime as dt

from simulator.pricing import pmp_pricing
from simulator.state import MessageRecord, Settings, State

SEPT = dt.datetime(2026, 9, 14, 10, tzinfo=dt.timezone.utc).timestamp()
OCT = dt.datetime(2026, 10, 14, 10, tzinfo=dt.timezone.utc).timestamp()
NOV = dt.datetime(2026, 11, 2, 10, tzinfo=dt.timezone.utc).timestamp()


def rec(n: int, kind: str = "text", category: str | None = None) -> MessageRecord:
    return MessageRecord(seq=n, wamid=f"wamid.{n}", direction="outbound", phone_number_id="1", wa_id="447700900001",
                         type=kind, content={}, timestamp=0, status="accepted",
                         rendered={"category": category} if category else None)


def test_service_messages_beyond_1000_a_month_are_regular_from_october_2026():
    state = State(Settings(webhook_url="http://127.0.0.1:9/unused", auto_read=True, status_delay_ms=0))
    types = [pmp_pricing(state, rec(i), "1", True, OCT)["type"] for i in range(1001)]
    assert types[:1000] == ["free_customer_service"] * 1000 and types[1000] == "regular"
    assert pmp_pricing(state, rec(5000), "1", True, NOV)["type"] == "free_customer_service"  # a new month
    assert pmp_pricing(state, rec(5001), "2", True, OCT)["type"] == "free_customer_service"  # another number


def test_before_october_2026_service_is_always_free():
    state = State(Settings(webhook_url="http://127.0.0.1:9/unused", auto_read=True, status_delay_ms=0))
    assert {pmp_pricing(state, rec(i), "1", True, SEPT)["type"] for i in range(1001)} == {"free_customer_service"}


def test_utility_inside_the_window_became_charged():
    state = State(Settings(webhook_url="http://127.0.0.1:9/unused", auto_read=True, status_delay_ms=0))
    assert pmp_pricing(state, rec(1, "template", "UTILITY"), "1", True, SEPT)["billable"] is False
    assert pmp_pricing(state, rec(2, "template", "UTILITY"), "1", True, OCT) == {
        "billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
    assert pmp_pricing(state, rec(3, "template", "MARKETING"), "1", True, SEPT)["type"] == "regular"


def test_a_message_is_priced_once_its_sent_and_delivered_statuses_agree():
    state = State(Settings(webhook_url="http://127.0.0.1:9/unused", auto_read=True, status_delay_ms=0))
    first = pmp_pricing(state, rec(1), "1", True, OCT)
    assert pmp_pricing(state, rec(1), "1", True, OCT) == first
    assert state.service_sent[("1", "2026-10")] == 1
