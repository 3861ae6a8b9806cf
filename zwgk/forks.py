"""Locks that a forked child starts with free.

A fork copies every lock as it is at that instant. One that another thread held then (an encode in
flight, the model loading) is never released in the child, so the child's first use of it hangs. Celery's
prefork pool, a forking task runner or multiprocessing's "fork" start all fork processes that go on to
classify, so the locks around shared model work are renewed in every child instead.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

_LOCKS: weakref.WeakSet[ForkSafeLock] = weakref.WeakSet()


class ForkSafeLock:
    """A mutex (`with lock.held():`) that is new and free in each forked child."""

    __slots__ = ("_lock", "__weakref__")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        _LOCKS.add(self)

    @contextmanager
    def held(self) -> Iterator[None]:
        lock = self._lock  # release the very lock acquired, even if a fork renewed it meanwhile
        with lock:
            yield

    def locked(self) -> bool:
        return self._lock.locked()

    def _renew(self) -> None:
        self._lock = threading.Lock()


def _renew_all() -> None:
    for lock in list(_LOCKS):
        lock._renew()


os.register_at_fork(after_in_child=_renew_all)  # runs while the child has a single thread: no race
