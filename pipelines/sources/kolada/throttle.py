"""A thread-safe token bucket shared by all request threads of one client.

Kolada publishes no rate limit; clients keep to about 5 requests/s. One bucket per client
(not per thread) keeps the total rate bounded however many requests are in flight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """Grants `rate` tokens per second with a burst of `capacity` tokens."""

    def __init__(
        self,
        rate: float,
        capacity: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0, got {rate}")
        self.rate = rate
        self.capacity = max(1.0, capacity)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.capacity
        self._stamp = clock()

    def acquire(self) -> float:
        """Take one token, sleeping (outside the lock) until it is due; returns the wait."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1.0
            # A negative balance reserves a future slot: the caller waits for it.
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        if wait > 0:
            self._sleep(wait)
        return wait
