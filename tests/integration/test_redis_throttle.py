"""The Throttle contract, on Redis (shared by every worker process) and in memory (one process).

Each test gets two handles on the same limits: two RedisThrottle clients, as two worker
processes have, or the one MemoryThrottle of an embedded server twice.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from promptcanvas.adapters.throttle.memory import MemoryThrottle
from promptcanvas.adapters.throttle.redis import RedisThrottle
from promptcanvas.ports.jobs import RATE_WINDOW_SECONDS, Permit, Throttle

REDIS_URL = os.environ.get("PROMPTCANVAS_TEST_REDIS_URL")
KEY = "provider:test"


@pytest.fixture(params=["memory", "redis"])
def pair(request: pytest.FixtureRequest) -> Iterator[tuple[Throttle, Throttle]]:
    """Two handles on one set of limits."""
    if request.param == "memory":
        shared = MemoryThrottle()
        yield shared, shared
        return
    if not REDIS_URL:
        pytest.skip("PROMPTCANVAS_TEST_REDIS_URL is not set, so the Redis variant is skipped")
    prefix = f"pctest:{uuid.uuid4().hex}:"  # other tests and runs never see these keys
    first, second = RedisThrottle(REDIS_URL, prefix=prefix), RedisThrottle(REDIS_URL, prefix=prefix)
    try:
        yield first, second
    finally:
        leftovers = first.client.keys(f"{prefix}*")
        if leftovers:
            first.client.delete(*leftovers)
        first.client.close()
        second.client.close()


def take(throttle: Throttle, *, concurrency: int = 1, per_minute: int | None = None) -> Permit:
    got = throttle.acquire(KEY, concurrency=concurrency, per_minute=per_minute, ttl=30)
    assert isinstance(got, Permit), f"expected a slot, was told to wait {got} s"
    return got


def refused(throttle: Throttle, *, concurrency: int = 1, per_minute: int | None = None) -> float:
    got = throttle.acquire(KEY, concurrency=concurrency, per_minute=per_minute, ttl=30)
    assert isinstance(got, float), "expected a wait, got a slot"
    return got


def test_slots_are_exclusive_across_holders(pair: tuple[Throttle, Throttle]) -> None:
    a, b = pair
    first, second = take(a, concurrency=2), take(b, concurrency=2)
    assert first.token != second.token
    assert 0 <= refused(a, concurrency=2) < 1  # only a slot is missing: ask again soon
    b.release(second)
    third = take(a, concurrency=2)
    assert 0 <= refused(b, concurrency=2) < 1
    a.release(first)
    a.release(third)
    take(b, concurrency=2)


def test_many_threads_on_two_handles_never_exceed_the_concurrency(
    pair: tuple[Throttle, Throttle],
) -> None:
    holding = 0
    most = 0
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(throttle: Throttle) -> None:
        nonlocal holding, most
        try:
            for _ in range(15):
                while not isinstance(
                    got := throttle.acquire(KEY, concurrency=3, per_minute=None, ttl=30), Permit
                ):
                    time.sleep(got / 4)
                with lock:
                    holding += 1
                    most = max(most, holding)
                time.sleep(0.002)
                with lock:
                    holding -= 1
                throttle.release(got)
        except BaseException as exc:  # surfaced below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(pair[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert most == 3


def test_a_spent_budget_answers_with_the_wait_until_the_oldest_call_leaves_the_window(
    pair: tuple[Throttle, Throttle],
) -> None:
    a, b = pair
    for throttle in (a, b, a):
        throttle.release(take(throttle, concurrency=10, per_minute=3))
    # Releasing a slot gives the concurrency back, not the call: the budget stays spent.
    wait = refused(b, concurrency=10, per_minute=3)
    assert RATE_WINDOW_SECONDS - 5 < wait <= RATE_WINDOW_SECONDS
    assert refused(a, concurrency=10, per_minute=3) <= wait
    # Another provider's budget is its own.
    other = a.acquire("provider:other", concurrency=10, per_minute=3, ttl=30)
    assert isinstance(other, Permit)


def test_a_crashed_holders_slot_lapses_after_its_ttl(pair: tuple[Throttle, Throttle]) -> None:
    a, b = pair
    crashed = a.acquire(KEY, concurrency=1, per_minute=None, ttl=0.5)
    assert isinstance(crashed, Permit)  # and never released: its worker died
    refused(b)
    time.sleep(0.6)
    survivor = take(b)
    # The dead holder's permit no longer names a slot: renewing or releasing it changes nothing.
    assert a.renew(crashed, 30) is False
    a.release(crashed)
    refused(a)
    b.release(survivor)
    take(a)


def test_renewing_keeps_a_slot_past_its_ttl(pair: tuple[Throttle, Throttle]) -> None:
    a, b = pair
    held = a.acquire(KEY, concurrency=1, per_minute=None, ttl=0.6)
    assert isinstance(held, Permit)
    for _ in range(3):
        time.sleep(0.3)
        assert a.renew(held, 0.6) is True
    refused(b)  # 0.9 s after it was taken, on a 0.6 s ttl: still held
    a.release(held)
    assert a.renew(held, 0.6) is False
    take(b)


def test_a_waiter_gets_a_released_slot_at_once_not_at_its_next_poll(
    pair: tuple[Throttle, Throttle], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Waits long enough that only a hand-over (not the wait running out) explains an early return.
    import promptcanvas.adapters.throttle.memory as memory
    import promptcanvas.adapters.throttle.redis as redis_throttle

    monkeypatch.setattr(redis_throttle, "SLOT_WAIT", 20.0)
    monkeypatch.setattr(memory, "SLOT_WAIT", 20.0)
    a, b = pair
    held = take(a)
    answered: list[tuple[float, Permit | float]] = []

    def wait_for_slot() -> None:
        start = time.monotonic()
        got = b.acquire(KEY, concurrency=1, per_minute=None, ttl=30)
        answered.append((time.monotonic() - start, got))

    waiter = threading.Thread(target=wait_for_slot)
    waiter.start()
    time.sleep(0.3)
    assert not answered, "the waiter should be waiting for a slot"
    a.release(held)
    waiter.join(timeout=15)
    assert answered, "a release must wake the waiter"
    took, got = answered[0]
    assert took < 10, "a release must wake the waiter before its wait runs out"
    assert isinstance(got, Permit), "the woken waiter takes the freed slot"
    b.release(got)
