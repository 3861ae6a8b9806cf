"""Reading an iterator ahead in a thread: the next items are built (or fetched) while the caller works on the
last ones, e.g. bulk actions built while a bulk request is in flight, or a scan's next page fetched while the
caller reads this one."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Prefetch(Generic[T]):
    """Iterates `source` in a daemon thread, at most `depth` items ahead; the source's error is raised to the
    reader where the items end. close() stops the thread; afterwards the source may be read again."""

    _DONE = object()

    def __init__(self, source: Iterator[T], depth: int, name: str = "zwgk-prefetch"):
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.stopped = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(source,), name=name, daemon=True)
        self.thread.start()

    def _put(self, item: Any) -> bool:
        while not self.stopped.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, source: Iterator[T]) -> None:
        try:
            for item in source:
                if not self._put(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            self.error = exc
        self._put(self._DONE)

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self.queue.get()
            if item is self._DONE:
                if self.error is not None:
                    raise self.error
                return
            yield item

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
