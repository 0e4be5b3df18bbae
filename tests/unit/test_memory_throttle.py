"""The in-process throttle: slots, the rate window, and handing a freed slot over at once."""

from __future__ import annotations

import threading
import time

from promptcanvas.adapters.throttle.memory import SLOT_WAIT, MemoryThrottle
from promptcanvas.ports.jobs import RATE_WINDOW_SECONDS, Permit


class Ticks:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def take(throttle: MemoryThrottle, **limits: int | None) -> Permit | float:
    concurrency = limits.get("concurrency") or 2
    return throttle.acquire(
        "provider:x", concurrency=concurrency, per_minute=limits.get("per_minute"), ttl=30
    )


def test_no_more_slots_than_the_concurrency() -> None:
    throttle = MemoryThrottle()
    first, second = take(throttle), take(throttle)
    assert isinstance(first, Permit) and isinstance(second, Permit)
    t0 = time.monotonic()
    assert take(throttle) == 0.0  # asked to call again, after waiting for a release in vain
    assert time.monotonic() - t0 >= SLOT_WAIT * 0.9
    throttle.release(first)
    assert isinstance(take(throttle), Permit)


def test_a_released_slot_goes_at_once_to_a_waiting_caller() -> None:
    throttle = MemoryThrottle()
    held = take(throttle, concurrency=1)
    assert isinstance(held, Permit)
    got: list[tuple[Permit | float, float]] = []

    def waiter() -> None:
        t0 = time.monotonic()
        permit = take(throttle, concurrency=1)
        got.append((permit, time.monotonic() - t0))

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.05)
    assert not got  # still waiting inside acquire
    released = time.monotonic()
    throttle.release(held)
    thread.join(timeout=5)
    answer, waited = got[0]
    assert isinstance(answer, Permit)
    assert waited < SLOT_WAIT  # woken by the release, not by the timeout
    assert time.monotonic() - released < 0.05


def test_the_rate_window_counts_granted_calls() -> None:
    ticks = Ticks()
    throttle = MemoryThrottle(ticks)
    for _ in range(3):
        permit = take(throttle, per_minute=3)
        assert isinstance(permit, Permit)
        throttle.release(permit)
    ticks.now += 10
    wait = take(throttle, per_minute=3)
    assert wait == RATE_WINDOW_SECONDS - 10
    ticks.now += wait
    assert isinstance(take(throttle, per_minute=3), Permit)


def test_a_crashed_holder_loses_its_slot_after_the_ttl() -> None:
    ticks = Ticks()
    throttle = MemoryThrottle(ticks)
    assert isinstance(take(throttle, concurrency=1), Permit)  # never released
    ticks.now += 31
    assert isinstance(take(throttle, concurrency=1), Permit)
