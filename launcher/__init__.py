"""Starts and stops tsunagi's processes: the demo command and the end-to-end tests."""
