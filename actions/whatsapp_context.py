"""What the WhatsApp channel put into a user message's metadata."""
from __future__ import annotations

import datetime as dt
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


def message_time(tracker: Tracker) -> dt.datetime | None:
    """When the latest user message was sent: WhatsApp's own timestamp (the channel's
    `metadata.whatsapp.timestamp`, seconds since the epoch), else when Rasa received it
    (the user event's `timestamp`), else None."""
    value = whatsapp_metadata(tracker).get("timestamp")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        value = next((e.get("timestamp") for e in reversed(tracker.events or [])
                      if e.get("event") == "user"), None)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
    return None
