"""Queries and transactions of the desk, one module per area."""
