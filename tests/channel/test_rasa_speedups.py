"""The channel's speed-ups of Rasa keep Rasa's behaviour (connectors/whatsapp/rasa_speedups.py)."""
import pytest
from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction

from connectors.whatsapp import rasa_speedups

GOOD = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
BAD = {"events": [{"name": "x"}], "responses": [{"text": "hi"}]}  # an event without its type


def outcome(result):
    action = RemoteAction("action_x", None)
    try:
        return action._validate_action_result(result)
    except ValidationError as error:
        return error.message


@pytest.fixture
def original():
    stock = RemoteAction.__dict__["_validate_action_result"]
    yield stock
    RemoteAction._validate_action_result = stock
    if "_validator_cached" in RemoteAction.__dict__:
        delattr(RemoteAction, "_validator_cached")


@pytest.fixture
def schema_checks(monkeypatch):
    """How often a schema is checked against its metaschema (the work done once)."""
    calls = []
    cls = validators.validator_for(RemoteAction.action_response_format_spec())
    check = cls.check_schema
    monkeypatch.setattr(cls, "check_schema", classmethod(lambda c, s, **kw: (calls.append(1), check(s))[1]))
    return calls


def test_cached_validation_accepts_and_refuses_as_rasa_does(original, schema_checks):
    stock = [outcome(GOOD), outcome(BAD)]
    assert stock[0] is True and "Failed to validate Action server response" in stock[1]
    assert len(schema_checks) == 2  # stock Rasa checks the schema on every call
    assert rasa_speedups.cache_action_result_schema()
    assert RemoteAction.__dict__["_validate_action_result"] is not original
    schema_checks.clear()
    assert [outcome(GOOD), outcome(BAD), outcome(GOOD)] == [*stock, True]
    assert schema_checks == []  # checked once, when the patch was made
    assert rasa_speedups.cache_action_result_schema()  # a second start changes nothing
    assert [outcome(GOOD), outcome(BAD)] == stock
