"""Why a handoff happens, read from Rasa's events (actions.handoff.handoff_reason)."""
import pytest

from actions.handoff import handoff_reason
from desk.models import HandoffReason


def user(intent: str, article: str | None = None) -> dict:
    parse = {"intent": {"name": intent}}
    if article:
        parse["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{article}"}}}
    return {"event": "user", "parse_data": parse}


BOT = {"event": "bot", "text": "Which department?"}


@pytest.mark.parametrize("events,reason", [
    ([user("faq", "speak_to_human"), BOT, user("choose_department")], HandoffReason.asked),
    ([user("faq", "double_charged"), BOT, user("choose_department")], HandoffReason.human_only),
    ([user("nlu_fallback"), BOT, user("nlu_fallback"), BOT, user("choose_department")],
     HandoffReason.misunderstood),
    ([user("sales_inquiry"), BOT, user("wait_for_agent")], HandoffReason.lead),
    ([user("faq", "double_charged"), BOT, user("faq", "speak_to_human")], HandoffReason.asked),
    ([], HandoffReason.asked),
])
def test_the_message_before_the_handoff_dialogue_decides(events, reason):
    assert handoff_reason(events) == reason


def test_inside_the_lead_form_it_is_a_lead():
    assert handoff_reason([user("faq", "speak_to_human")], active_loop="lead_form") == HandoffReason.lead
