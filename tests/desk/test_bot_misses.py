"""Bot misses for the trainer (desk.services.bot_misses). SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from desk.services import bot_misses


async def test_misses_are_recorded_and_listed_newest_first(sessions):
    async with sessions() as s, s.begin():
        await bot_misses.record(s, kind="not_helpful", question="  only got 2 of   the 3 items ",
                                article="bulk_discounts", confidence=0.612345, offered="missing_item",
                                phone_number_id="100000000000001", wa_id="447700900123", chat_id=7)
        await bot_misses.record(s, kind="unsure", question="do u do gift wrap", article="gift_cards",
                                confidence=0.31)
    async with sessions() as s:
        unsure, wrong = await bot_misses.recent(s)
        assert (unsure.kind, unsure.question, unsure.article) == ("unsure", "do u do gift wrap", "gift_cards")
        assert (wrong.question, wrong.article, wrong.confidence, wrong.offered, wrong.chat_id) == (
            "only got 2 of the 3 items", "bulk_discounts", 0.6123, "missing_item", 7)
        assert [m.kind for m in await bot_misses.recent(s, kind="not_helpful")] == ["not_helpful"]
        assert len(await bot_misses.recent(s, limit=1)) == 1


@pytest.mark.parametrize("kind, question, reason", [
    ("wrong", "a question", "kind must be one of"),
    ("unsure", "   ", "needs the user's question")])
async def test_a_miss_needs_a_known_kind_and_the_question(sessions, kind, question, reason):
    async with sessions() as s, s.begin():
        with pytest.raises(ValueError, match=reason):
            await bot_misses.record(s, kind=kind, question=question)
