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


# -- addressing: phone (`to`) or business-scoped user id (`recipient`) ----------------------

def test_a_message_goes_to_the_phone_when_known_else_to_the_bsuid():
    from cloudapi.outbound import OutboundError, address, addressed

    assert address("16315551234", "US.1349") == {"to": "16315551234"}
    assert address(None, "US.1349") == {"recipient": "US.1349"}
    with pytest.raises(OutboundError):
        address(None, None)
    message = {"to": "old", "type": "text", "text": {"body": "hi"}}
    assert addressed(message, None, "US.1349") == {"recipient": "US.1349", "type": "text",
                                                   "text": {"body": "hi"}}


def test_131062_is_final_and_named():
    from cloudapi.graph import GraphError

    err = GraphError.from_response(400, {"error": {"code": 131062, "message": "BSUID recipients are not supported"}})
    assert err.bsuid_refused and not err.retryable and not err.auth
