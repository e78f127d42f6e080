"""WhatsApp Cloud API channel for Rasa: `connectors.whatsapp.WhatsAppInput`."""
from connectors.whatsapp.channel import WhatsAppInput, WhatsAppOutput

__all__ = ["WhatsAppInput", "WhatsAppOutput"]
