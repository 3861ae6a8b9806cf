"""ForkSafeLock: a lock another thread holds at the fork is free in the child."""

from __future__ import annotations

import threading

from tests.fixtures.forks import in_a_forked_child
from zwgk.forks import ForkSafeLock


def _hold_while_forking(lock) -> bool:
    """Fork while another thread holds the lock; the child reports whether it could take the lock."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock.held() if isinstance(lock, ForkSafeLock) else lock:
            taken.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait()
    try:
        def child() -> bool:
            if isinstance(lock, ForkSafeLock):
                with lock.held():
                    return True
            return lock.acquire(timeout=1)

        return in_a_forked_child(child, timeout=30)
    finally:
        release.set()
        holder.join()


def test_a_plain_lock_held_at_the_fork_stays_held_in_the_child():
    """Why ForkSafeLock exists: the child's copy of a held threading.Lock is never released."""
    assert _hold_while_forking(threading.Lock()) is False


def test_a_fork_safe_lock_held_at_the_fork_is_free_in_the_child():
    lock = ForkSafeLock()
    assert _hold_while_forking(lock) is True
    assert not lock.locked()  # and the parent's holder released its own lock as usual


def test_a_fork_inside_the_lock_leaves_it_cleanly_in_the_child():
    """The forking thread itself is inside held(): in the child, leaving the block releases the copy it
    acquired, not the renewed lock (no 'release unlocked lock'), and the lock can be taken again."""
    lock = ForkSafeLock()
    inside = lock.held()
    inside.__enter__()  # the with-block that is open while forking, left by each process on its own

    def leave_and_retake() -> bool:
        inside.__exit__(None, None, None)
        with lock.held():
            return True

    try:
        assert in_a_forked_child(leave_and_retake, timeout=30) is True
    finally:
        inside.__exit__(None, None, None)
    assert not lock.locked()
