"""`relaxed_gc`: a run collects less often, and the caller's thresholds come back."""

from __future__ import annotations

import gc

import pytest

from splhunt.runner.common import RUN_GC_THRESHOLDS, relaxed_gc


def test_thresholds_inside_and_restored_after_an_error() -> None:
    before = gc.get_threshold()
    gc.set_threshold(123, 4, 5)
    try:
        with pytest.raises(RuntimeError), relaxed_gc():
            assert gc.get_threshold() == RUN_GC_THRESHOLDS
            raise RuntimeError("boom")
        assert gc.get_threshold() == (123, 4, 5)
        with relaxed_gc():
            pass
        assert gc.get_threshold() == (123, 4, 5)
    finally:
        gc.set_threshold(*before)


def test_cycles_made_inside_are_still_collected() -> None:
    class Node:
        pass

    with relaxed_gc():
        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
        assert gc.collect() >= 2
