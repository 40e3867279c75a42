"""The window of sends in flight per platform (``app/grading/pacing.py``): it starts where the
platform's plugin says, halves on a throttled answer, loses one when the LMS's remaining quota
runs low, and grows slowly while scores are delivered, never past the plugin's most."""

from __future__ import annotations

from app.grading.pacing import SendWindow
from app.lti.ags import Answer, SendOutcome
from app.lti.platforms import Pacing, plugin

DELIVERED = SendOutcome(Answer.DELIVERED, 200, "", remaining=550.0)
THROTTLED = SendOutcome(Answer.THROTTLED, 403, "slow down", remaining=50.0)
LOW = SendOutcome(Answer.DELIVERED, 200, "", remaining=60.0)


def filled(window: SendWindow, now: float = 0.0) -> int:
    """Start sends until the window is full; return how many are in flight."""
    while window.has_room(now):
        window.started()
    return window.in_flight


def test_canvas_starts_with_four_in_flight_and_never_passes_ten():
    window = SendWindow(plugin("canvas").pacing, threads=16)
    assert filled(window) == 4
    for _ in range(200):
        window.finished(DELIVERED, 0.0)
        filled(window)
    assert window.in_flight == 10


def test_a_platform_without_a_known_limit_uses_every_thread():
    assert filled(SendWindow(plugin("moodle").pacing, threads=16)) == 16
    assert filled(SendWindow(plugin("generic").pacing, threads=3)) == 3


def test_a_throttled_answer_halves_the_window():
    window = SendWindow(Pacing(start=8, most=10), threads=16)
    filled(window)
    window.finished(THROTTLED, 0.0)
    assert window.size == 4
    assert not window.has_room(0.0)  # 7 still in flight
    for _ in range(4):
        window.finished(THROTTLED, 0.0)
    assert window.size == 1  # never below one: the score must still go


def test_a_low_remaining_quota_takes_one_off():
    window = SendWindow(Pacing(start=6, most=10, reserve=100), threads=16)
    filled(window)
    window.finished(LOW, 0.0)
    assert window.size == 5


def test_it_grows_by_about_one_per_window_of_deliveries():
    window = SendWindow(Pacing(start=4, most=10), threads=16)
    for _ in range(4):
        window.started()
    for _ in range(4):
        window.finished(DELIVERED, 0.0)
    assert 4.8 < window.size < 5


def test_a_retry_after_pauses_every_send():
    window = SendWindow(Pacing(), threads=4)
    window.started()
    window.finished(SendOutcome(Answer.THROTTLED, 429, "busy", retry_after=30), 100.0)
    assert not window.has_room(129.9)
    assert window.has_room(130.0)
