"""Billing tests run on SQLite and PostgreSQL (the `sessions` fixture of tests/conftest.py)."""
from tests.channel.conftest import harness  # noqa: F401  (the channel wired to the simulator)
