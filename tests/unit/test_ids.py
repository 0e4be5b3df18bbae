"""Ids: 26 Crockford base32 digits of 48 bits of milliseconds and 80 random bits."""

from __future__ import annotations

import random
import time

from promptcanvas.domain.ids import encode_id, is_valid_id, new_id

DIGITS = "0123456789abcdefghjkmnpqrstvwxyz"


def digit_by_digit(value: int) -> str:
    """The plain definition: base32 digits, most significant first."""
    return "".join(DIGITS[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def test_encoding_matches_base32_digit_by_digit() -> None:
    rng = random.Random(5)
    values = [0, 1, 31, 32, 2**128 - 1, 2**80, 2**127] + [rng.getrandbits(128) for _ in range(500)]
    for value in values:
        assert encode_id(value) == digit_by_digit(value), hex(value)


def test_ids_are_valid_unique_and_sort_by_creation_time() -> None:
    first = [new_id() for _ in range(1000)]
    time.sleep(0.002)
    later = new_id()
    assert all(is_valid_id(i) for i in first) and len(set(first)) == 1000
    assert max(first) < later
