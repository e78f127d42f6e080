"""Work Rasa 3.6 repeats on every turn that gives the same result each time, done once.

Applied by the channel when the Rasa server starts (the stock REST baseline of the
benches runs without it). Each speed-up keeps Rasa's behaviour: the same checks,
the same errors and messages.
"""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def cache_action_result_schema() -> bool:
    """`RemoteAction._validate_action_result` calls `jsonschema.validate` on every
    action server answer, and that first checks the *schema* against its metaschema
    and builds a new validator (about a tenth of a turn's CPU in our profile). The
    schema is a constant: check it and build the validator once. Returns whether the
    patch is (now) in place."""
    from jsonschema import ValidationError, exceptions, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    if getattr(RemoteAction, "_validator_cached", False):
        return True
    original = getattr(RemoteAction, "_validate_action_result", None)
    if original is None or not hasattr(RemoteAction, "action_response_format_spec"):
        log.warning("whatsapp: this Rasa has no RemoteAction._validate_action_result; left as it is")
        return False
    spec = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(spec)
    cls.check_schema(spec)
    validator = cls(spec)

    def _validate_action_result(self, result):  # what jsonschema.validate does, minus the rebuild
        error = exceptions.best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        assert isinstance(error, ValidationError)
        raise error

    RemoteAction._validate_action_result = _validate_action_result
    RemoteAction._validator_cached = True
    return True
