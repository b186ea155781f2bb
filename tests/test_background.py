"""Worker threads used for streaming (store/background.py): order, errors, early exit."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit.errors import FileAccessError
from fieldkit.store.background import BackgroundWriter, prefetched


def test_prefetched_keeps_order_and_raises_in_place() -> None:
    def items() -> Iterator[int]:
        yield from range(50)
        raise ValueError("chunk 50 failed")

    seen: list[int] = []
    with pytest.raises(ValueError, match="chunk 50"):
        for x in prefetched(items()):
            seen.append(x)
    assert seen == list(range(50))


def test_leaving_early_stops_the_producer() -> None:
    produced = itertools.count()
    stopped = threading.Event()

    def endless() -> Iterator[int]:
        try:
            while True:
                yield next(produced)
        finally:
            stopped.set()

    it = prefetched(endless(), depth=2)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    it.close()  # what a `for` loop left by an exception does
    assert stopped.wait(5)
    assert next(produced) < 10  # it stopped a few items ahead, not at the end of time


def test_background_writer_writes_everything_in_order(tmp_path: Path) -> None:
    pieces = [os.urandom(n) for n in (0, 1, 65552, 1 << 20, 3, 2_000_001, 17)] * 3
    path = tmp_path / "out"
    with open(path, "wb") as fh:
        fh.write(b"head")  # buffered before the writer takes over: must come first
        w = BackgroundWriter(fh)
        for p in pieces:
            w.write(memoryview(p))
        w.close()
    assert path.read_bytes() == b"head" + b"".join(pieces)


def test_background_writer_reports_a_failed_write(tmp_path: Path) -> None:
    fh = open(tmp_path / "out", "wb")
    w = BackgroundWriter(fh)
    os.close(fh.fileno())  # the disk goes away under the writer
    with pytest.raises(FileAccessError):
        for _ in range(64):
            w.write(bytes(1 << 20))
        w.close()
    w.abandon()
    with pytest.raises(OSError):
        fh.close()
