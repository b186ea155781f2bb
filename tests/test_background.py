"""Worker threads used for streaming (store/background.py): order, errors, early exit,
and the O_DIRECT writer with its fallbacks."""

from __future__ import annotations

import errno
import fcntl
import gc
import itertools
import os
import random
import resource
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from fieldkit.store import background
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
        assert _path_of(w) == "page cache"  # O_DIRECT needs a block-aligned start
        for p in pieces:
            w.write(memoryview(p))
        w.close()
    assert path.read_bytes() == b"head" + b"".join(pieces)


def test_background_writer_reports_a_failed_write(tmp_path: Path) -> None:
    fh = open(tmp_path / "out", "wb")
    w = BackgroundWriter(fh)
    os.close(fh.fileno())  # the disk goes away under the writer
    with pytest.raises(OSError):  # as it came, for the caller to name the file
        for _ in range(64):
            w.write(bytes(1 << 20))
        w.close()
    w.abandon()
    with pytest.raises(OSError):
        fh.close()


# ---- O_DIRECT: writes around the page cache ------------------------------------------

O_DIRECT = getattr(os, "O_DIRECT", 0)


def _direct_supported(folder: Path) -> bool:
    if not O_DIRECT:
        return False
    fd = os.open(folder / "probe", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | O_DIRECT)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
        os.unlink(folder / "probe")


@pytest.fixture
def direct_dir(tmp_path: Path) -> Path:
    """For the tests of the O_DIRECT path itself. Where the platform or file system has
    none, they cannot run, and say so; the page-cache path runs everywhere (`write_path`)."""
    _need_direct(tmp_path)
    return tmp_path


def _need_direct(folder: Path) -> None:
    if not _direct_supported(folder):
        pytest.skip(f"no O_DIRECT for {folder} here: only the page-cache path was tested")


def _refuse_direct(real: Any) -> Any:
    def fcntl_without_direct(fd: int, cmd: int, arg: int = 0) -> Any:
        if cmd == fcntl.F_SETFL and arg & O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real(fd, cmd, arg)

    return fcntl_without_direct


@pytest.fixture(params=["O_DIRECT", "page cache: no O_DIRECT", "page cache: refused at open"])
def write_path(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Each way the writer can go. The fallbacks are forced, so they run on a machine
    that has O_DIRECT too: the platform has none (macOS), or the file system refuses
    it when the writer asks. Tests check with `_path_of` that this path was taken."""
    if request.param == "O_DIRECT":
        _need_direct(tmp_path)
    elif request.param == "page cache: no O_DIRECT":
        monkeypatch.setattr(background, "_O_DIRECT", 0)
    else:
        monkeypatch.setattr(background.fcntl, "fcntl", _refuse_direct(fcntl.fcntl))
    return str(request.param)


def _path_of(w: BackgroundWriter) -> str:
    return "O_DIRECT" if w._ring else "page cache"


def _pieces(total: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out, n = [], 0
    while n < total:
        size = min(total - n, rng.choice((1, 17, 4095, 4096, 4097, 65552, 1 << 20, 3_000_001)))
        out.append(rng.randbytes(size))
        n += size
    return out


def _written(path: Path, pieces: list[bytes]) -> bytes:
    """Write `pieces` to a new file through a BackgroundWriter; the file's bytes."""
    with open(path, "wb") as fh:
        w = BackgroundWriter(fh)
        assert _path_of(w) == "O_DIRECT"  # used by the tests of that path only
        for p in pieces:
            w.write(p)
        w.close()
    return path.read_bytes()


def _is_direct(fh: BinaryIO) -> bool:
    return bool(fcntl.fcntl(fh.fileno(), fcntl.F_GETFL) & O_DIRECT)


def test_writes_keep_every_byte_in_order_on_each_path(tmp_path: Path, write_path: str) -> None:
    pieces = _pieces(9 * background.BLOCK + 12345, seed=1)  # ends in a partial block
    path = tmp_path / "out"
    with open(path, "wb") as fh:
        w = BackgroundWriter(fh)
        assert write_path.startswith(_path_of(w))
        # On the O_DIRECT path the page cache is bypassed from the first byte.
        assert _is_direct(fh) == (write_path == "O_DIRECT")
        for p in pieces:
            w.write(memoryview(p))
        w.close()
    assert path.read_bytes() == b"".join(pieces)


def test_direct_ring_is_never_refilled_while_a_block_is_in_flight(
    direct_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow disk: every write waits a little, so the producer runs ahead as far as
    the queue lets it. A ring one buffer too small would overwrite a queued block."""
    real_write, rng = os.write, random.Random(2)

    def slow_write(fd: int, data: Any) -> int:
        time.sleep(rng.random() * 0.003)
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", slow_write)
    pieces = _pieces(40 * background.BLOCK + 1, seed=3)
    assert _written(direct_dir / "out", pieces) == b"".join(pieces)


@pytest.mark.parametrize("failure", ["refused", "short by a block", "short by 100 bytes"])
def test_direct_write_trouble_falls_back_to_the_page_cache(
    direct_dir: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """A file system may take O_DIRECT at open and refuse it at a write (EINVAL), or
    write less than asked: what is left of an aligned length goes on directly, what is
    left of an unaligned one through the page cache; no byte is lost or doubled."""
    real_write, calls = os.write, []

    def troubled_write(fd: int, data: Any) -> int:
        calls.append(bool(fcntl.fcntl(fd, fcntl.F_GETFL) & O_DIRECT))
        if len(calls) == 2:  # the second block
            if failure == "refused":
                raise OSError(errno.EINVAL, "Invalid argument")
            if failure == "short by a block":
                return real_write(fd, memoryview(data)[: len(data) - 4096])
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)  # short by 100: only without O_DIRECT
            fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~O_DIRECT)
            try:
                return real_write(fd, memoryview(data)[: len(data) - 100])
            finally:
                fcntl.fcntl(fd, fcntl.F_SETFL, flags)
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", troubled_write)
    pieces = _pieces(5 * background.BLOCK + 7, seed=4)
    assert _written(direct_dir / "out", pieces) == b"".join(pieces)
    # the third block went on directly only if nothing was wrong with the alignment
    assert calls[:2] == [True, True]
    assert calls[3] == (failure == "short by a block")


def test_write_errors_other_than_refusal_are_reported_on_each_path(
    tmp_path: Path, write_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(fd: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    monkeypatch.setattr(os, "writev", full_disk)
    with open(tmp_path / "out", "wb") as fh:
        w = BackgroundWriter(fh)
        assert write_path.startswith(_path_of(w))
        with pytest.raises(OSError, match="No space left"):
            for _ in range(16):
                w.write(bytes(background.BLOCK))
            w.close()
        w.abandon()


def test_direct_buffers_are_given_back_at_close(direct_dir: Path) -> None:
    """HQ import makes one writer per attachment, the app lives for hours: each
    writer's aligned buffers must go at close, not whenever the garbage collector
    gets round to the worker's reference cycle."""
    block = bytes(background.BLOCK)
    gc.disable()
    try:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for i in range(40):
            with open(direct_dir / f"out{i}", "wb") as fh:
                w = BackgroundWriter(fh)
                assert _path_of(w) == "O_DIRECT"
                for _ in range(background.QUEUE_DEPTH + 2):  # touch every buffer
                    w.write(block)
                w.close()
            (direct_dir / f"out{i}").unlink()
        grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    finally:
        gc.enable()
    assert grown_mib < 60  # 40 writers x 6 MiB = 240 MiB if the buffers were kept
