"""Run the desk's clock from a fixed date, so that a test cannot depend on today's.

The clock still moves (timers, leases and the browser's waits need time to pass):
it starts at `start` and advances with the monotonic clock.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import time

import desk.models


@contextlib.contextmanager
def clock_from(start: dt.datetime):
    t0 = time.monotonic()
    previous = desk.models.clock
    desk.models.clock = lambda: start + dt.timedelta(seconds=time.monotonic() - t0)
    try:
        yield
    finally:
        desk.models.clock = previous


# A day in the middle of a month, away from any month, week or day boundary that a
# billing period, a free tier or a 24-hour window could cross during a test.
MID_MONTH = dt.datetime(2026, 6, 17, 10, 0, tzinfo=dt.timezone.utc)
