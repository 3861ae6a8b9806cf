"""zwgk/gcpause.py: the cyclic collector is off inside the block and as it was after, also after an error."""

from __future__ import annotations

import gc
import weakref

import pytest

from zwgk.gcpause import cyclic_gc_paused


def test_the_collector_is_paused_inside_and_restored_after_even_on_error():
    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        raise RuntimeError("a measure failed")
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_caller_stays_off():
    gc.disable()
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_cycles_made_inside_are_collected_when_the_block_ends():
    class Node:
        pass

    with cyclic_gc_paused():
        a, b = Node(), Node()
        a.other, b.other = b, a
        ref = weakref.ref(a)
        del a, b
        assert ref() is not None  # the cycle outlives its names while the collector is paused
    assert ref() is None
