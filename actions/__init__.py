"""The rasa_sdk action server: one module per area, thin over desk/ code."""
