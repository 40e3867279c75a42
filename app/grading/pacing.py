"""How many scores a worker sends to one platform at once: a window that adapts to what the
LMS says about its rate limit (additive increase, multiplicative decrease, as TCP paces a
connection).

An LMS that throttles (Canvas: one leaky bucket per developer key, each request in flight
holding part of it; ``app/lti/platforms.py`` ``Canvas.pacing``) refuses the sends over its
limit; sending them all at once and retrying the refusals only refuses more. So each
registration gets a window: it starts at what the platform's plugin says, loses half after a
throttled answer, one when the remaining quota the LMS reports falls below the plugin's
reserve, and grows by one per window's worth of delivered scores up to the plugin's most. Each
worker process keeps its own windows; several workers sharing one LMS's bucket each shrink when
it runs low, so together they settle within it.
"""

from __future__ import annotations

from app.lti.ags import Answer, SendOutcome
from app.lti.platforms import Pacing


class SendWindow:
    """The sends in flight to one platform, and how many may be (used by one thread)."""

    def __init__(self, pacing: Pacing, threads: int) -> None:
        self.most = max(1, min(pacing.most or threads, threads))
        self.size = float(min(pacing.start or threads, self.most))
        """How many sends may be in flight; fractional while it grows."""
        self.reserve = pacing.reserve
        self.in_flight = 0
        self.paused_until = 0.0
        """Monotonic time before which nothing is sent (the LMS's ``Retry-After``)."""

    def has_room(self, now: float) -> bool:
        """Whether one more send may start now."""
        return self.in_flight < int(self.size) and now >= self.paused_until

    def started(self) -> None:
        self.in_flight += 1

    def finished(self, outcome: SendOutcome, now: float) -> None:
        """Count a send out, and size the window by what its answer said."""
        self.in_flight -= 1
        if outcome.answer is Answer.THROTTLED:
            self.size = max(1.0, self.size / 2)
            if outcome.retry_after:
                self.paused_until = max(self.paused_until, now + outcome.retry_after)
        elif outcome.remaining is not None and outcome.remaining < self.reserve:
            self.size = max(1.0, self.size - 1)
        elif outcome.answer is Answer.DELIVERED:
            self.size = min(float(self.most), self.size + 1 / self.size)
