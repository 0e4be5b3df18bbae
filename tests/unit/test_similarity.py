"""Comparison figures: colour-histogram distance and batch states."""

from __future__ import annotations

from PIL import Image

from promptcanvas.services.batches import BatchCounts, batch_state
from promptcanvas.services.similarity import colour_histogram, histogram_distance


def test_same_colours_are_0_and_disjoint_colours_are_1() -> None:
    red = colour_histogram(Image.new("RGB", (16, 16), (220, 20, 20)))
    blue = colour_histogram(Image.new("RGB", (16, 16), (20, 20, 220)))
    assert abs(red.sum() - 1.0) < 1e-9 and red.shape == (512,)
    assert histogram_distance(red, red) == 0.0
    assert histogram_distance(red, blue) == 1.0


def test_half_the_pixels_changed_lies_between() -> None:
    image = Image.new("RGB", (16, 16), (220, 20, 20))
    image.paste((20, 20, 220), (0, 0, 16, 8))
    red = colour_histogram(Image.new("RGB", (16, 16), (220, 20, 20)))
    distance = histogram_distance(red, colour_histogram(image))
    assert 0.4 < distance < 0.8


def test_transparent_pixels_do_not_count() -> None:
    image = Image.new("RGBA", (16, 16), (20, 20, 220, 0))
    image.paste((220, 20, 20, 255), (0, 0, 16, 8))
    red = colour_histogram(Image.new("RGB", (16, 16), (220, 20, 20)))
    assert histogram_distance(red, colour_histogram(image)) == 0.0


def test_batch_states() -> None:
    def state(
        pending: int = 0, running: int = 0, done: int = 0, failed: int = 0, cancelled: int = 0
    ) -> str:
        return batch_state(BatchCounts(pending, running, done, failed, cancelled))

    assert state(pending=3) == "PENDING"
    assert state(pending=2, done=1) == "RUNNING"
    assert state(running=1) == "RUNNING"
    assert state(done=3) == "SUCCESS"
    assert state(done=2, failed=1) == "FAILURE"
    assert state(done=1, failed=1, cancelled=1) == "CANCELLED"
