"""Message throughput (130429) and pair rate (131056) limits.

Throughput — "Throughput", WhatsApp Cloud API docs
(https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput):
each registered business phone number handles up to 80 messages per second by
default; beyond it the API answers error 130429 "Rate limit hit".  Modelled as
a sliding one-second window per number.

Pair rate — "Messaging limits / pair rate limits", same doc set: a business
number may send about 1 message every 6 seconds to the same WhatsApp user
(0.17 msg/s, ~10/min, 600/h); short bursts are tolerated but borrow against
the following period; beyond it the API answers 131056 "(Business Account,
Consumer Account) pair rate limit hit".  Meta does not publish the burst size,
so this is a token bucket per (number, user): capacity ``burst`` tokens, one
token regained every ``interval_s`` seconds, one token per message.  Both
parameters are configurable (SIM_PAIR_RATE_BURST, SIM_PAIR_RATE_INTERVAL_S).
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, Hashable


class SlidingWindow:
    """At most ``limit`` events per ``window_s`` seconds per key."""

    def __init__(self, limit: int, window_s: float = 1.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._now = now
        self._events: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: Hashable) -> bool:
        """Record an event; False (and nothing recorded) when over the limit."""
        now = self._now()
        with self._lock:
            q = self._events.setdefault(key, deque())
            while q and now - q[0] >= self.window_s:
                q.popleft()
            if len(q) >= self.limit:
                return False
            q.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._events.clear()


class TokenBucket:
    """``burst`` tokens per key, one regained every ``interval_s`` seconds."""

    def __init__(self, burst: int, interval_s: float,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.burst = max(1, burst)
        self.interval_s = interval_s
        self._now = now
        self._buckets: dict[Hashable, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: Hashable) -> bool:
        now = self._now()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            if self.interval_s > 0:
                tokens = min(float(self.burst), tokens + (now - at) / self.interval_s)
            else:
                tokens = float(self.burst)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
