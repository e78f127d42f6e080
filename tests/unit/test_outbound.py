import pytest

from cloudapi import outbound


def test_short_text_is_one_message():
    assert outbound.split_text("hello") == ["hello"]


def test_long_text_splits_on_word_boundaries_within_the_limit():
    words = ["word%04d" % i for i in range(1000)]  # 8999 characters
    parts = outbound.split_text(" ".join(words))
    assert len(parts) == 3
    assert all(len(p) <= outbound.TEXT_LIMIT for p in parts)
    assert " ".join(parts).split() == words  # nothing lost, no word cut


def test_paragraph_boundary_preferred():
    text = "a" * 3000 + "\n\n" + "b" * 3000
    assert outbound.split_text(text) == ["a" * 3000, "b" * 3000]


def test_one_giant_word_is_cut_hard():
    parts = outbound.split_text("x" * 9000)
    assert [len(p) for p in parts] == [4096, 4096, 808]


def test_three_buttons_become_reply_buttons_with_short_titles():
    msg = outbound.buttons_message("1555", "Pick", [
        {"title": "Sales", "payload": "/handoff{\"department\":\"sales\"}"},
        {"title": "A very long department name", "payload": "/x"}, {"title": "C", "payload": "/c"}])
    inter = msg["interactive"]
    assert inter["type"] == "button"
    titles = [b["reply"]["title"] for b in inter["action"]["buttons"]]
    assert titles[0] == "Sales" and len(titles[1]) == 20 and titles[1].endswith("…")
    assert inter["action"]["buttons"][0]["reply"]["id"] == "/handoff{\"department\":\"sales\"}"


def test_four_to_ten_buttons_become_a_list():
    msg = outbound.buttons_message("1555", "Pick", [{"title": f"Option {i}", "payload": f"/o{i}"} for i in range(7)])
    rows = msg["interactive"]["action"]["sections"][0]["rows"]
    assert msg["interactive"]["type"] == "list" and len(rows) == 7


@pytest.mark.parametrize("buttons", [[], [{"title": str(i)} for i in range(11)]])
def test_impossible_button_sets_are_refused(buttons):
    with pytest.raises(outbound.OutboundError):
        outbound.buttons_message("1555", "Pick", buttons)
