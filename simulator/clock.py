"""The simulator's clock: wall time plus an offset tests can move forward.

Everything Meta measures in calendar time (the 24-hour customer service
window, conversation expiry, webhook ``timestamp`` fields) reads this clock, so
``POST /_sim/clock`` can cross a 24-hour window without waiting.  Rate limits
(throughput, pair rate) are about real request pacing and use the monotonic
clock instead.
"""
from __future__ import annotations

import threading
import time


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the simulator's clock only moves forward")
        with self._lock:
            self._offset += seconds
            return time.time() + self._offset

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
