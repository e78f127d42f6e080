"""Fixtures of the bot's action tests: the domain and a tracker factory."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from rasa_sdk import Tracker

ROOT = Path(__file__).resolve().parents[2]
SENDER = "100000000000001_447700900123"
WHATSAPP = {"type": "text", "profile_name": "Kerry Fisher", "wa_id": "447700900123",
            "phone_number_id": "100000000000001", "media_id": None, "desk_chat_id": None}


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text())


@pytest.fixture
def make_tracker() -> Callable[..., Tracker]:
    """A tracker as the form sends it to the action server after a user message."""

    def make(text: str = "", intent: str | None = None, *, entities: list[dict] | None = None,
             slots: dict[str, Any] | None = None, requested_slot: str | None = None,
             whatsapp: dict[str, Any] | None = WHATSAPP, active_loop: str | None = "lead_form",
             confidence: float = 0.98) -> Tracker:
        metadata = {"whatsapp": dict(whatsapp)} if whatsapp is not None else {}
        latest = {"text": text, "intent": {"name": intent, "confidence": confidence},
                  "entities": entities or [], "metadata": metadata}
        all_slots = {"lead_name": None, "lead_email": None, "lead_company": None,
                     "lead_interest": None, "lead_phone": "+447700900123", "lead_consent": None,
                     **(slots or {}), "requested_slot": requested_slot}
        events = [{"event": "user", "text": text, "parse_data": latest, "metadata": metadata},
                  {"event": "slot", "name": "requested_slot", "value": requested_slot},
                  {"event": "action", "name": active_loop or "action_listen"}]
        return Tracker(sender_id=SENDER, slots=all_slots, latest_message=latest, events=events,
                       paused=False, followup_action=None,
                       active_loop={"name": active_loop} if active_loop else {},
                       latest_action_name=active_loop or "action_listen")

    return make


def entity(text: str, value: str, kind: str) -> dict[str, Any]:
    """An entity as the spaCy entity ruler reports it."""
    start = text.index(value)
    return {"entity": kind, "value": value, "start": start, "end": start + len(value),
            "extractor": "SpacyEntityExtractor"}


def responses(dispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]
