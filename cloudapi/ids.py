"""One conversation per (business number, WhatsApp user): its id, and back."""
from __future__ import annotations


def conversation_id(phone_number_id: str, wa_id: str) -> str:
    """Rasa's sender id: a user talking to two of our numbers has two conversations."""
    return f"{phone_number_id}_{wa_id}"


def split_conversation_id(sender_id: str) -> tuple[str, str]:
    phone_number_id, _, wa_id = sender_id.partition("_")
    if not wa_id:
        raise ValueError(f"not a whatsapp conversation id: {sender_id!r}")
    return phone_number_id, wa_id
