"""What the WhatsApp channel put into a user message's metadata."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker


def whatsapp_metadata(tracker: Tracker) -> dict[str, Any]:
    """The `whatsapp` block of the latest user message, or {} (e.g. in `rasa shell`)."""
    meta = (tracker.latest_message or {}).get("metadata") or {}
    block = meta.get("whatsapp") if isinstance(meta, dict) else None
    return block if isinstance(block, dict) else {}


def profile_name(tracker: Tracker) -> str | None:
    name = whatsapp_metadata(tracker).get("profile_name")
    return name if isinstance(name, str) and name.strip() else None
