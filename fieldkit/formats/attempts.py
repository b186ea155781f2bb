"""The failed-unlock counter file: how many unlocks in a row failed, and after how many
the vault wipes itself. It must be read before the passphrase is known, so it is not
encrypted; docs/vault-format.md ("Failed-unlock counter") is the spec.

Byte layout (14 bytes, integers big-endian):

    magic "FK-TRIES" (8) | version u8 = 1 | limit u8 (0 = off, 5, 10 or 20) | failures u32
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from fieldkit.errors import MalformedData

MAGIC = b"FK-TRIES"
VERSION = 1
LIMITS = (0, 5, 10, 20)  # 0: never wipe (the default)
MAX_FAILURES = 2**32 - 1

_LAYOUT = struct.Struct(">8sBBI")
SIZE = _LAYOUT.size


@dataclass(frozen=True)
class Attempts:
    limit: int = 0
    failures: int = 0

    def __post_init__(self) -> None:
        if self.limit not in LIMITS:
            raise ValueError("limit must be 0 (off), 5, 10 or 20")
        if not 0 <= self.failures <= MAX_FAILURES:
            raise ValueError("failures out of range")

    def one_more(self) -> Attempts:
        """The count before an attempt runs: every attempt counts as failed until it
        has succeeded (a process killed mid-attempt cannot skip the count)."""
        return Attempts(self.limit, min(self.failures + 1, MAX_FAILURES))

    @property
    def exhausted(self) -> bool:
        """This many failures in a row wipe the vault."""
        return self.limit != 0 and self.failures >= self.limit


def serialise(attempts: Attempts) -> bytes:
    return _LAYOUT.pack(MAGIC, VERSION, attempts.limit, attempts.failures)


def parse(data: bytes) -> Attempts:
    if len(data) != SIZE:
        raise MalformedData("failed-unlock counter file has the wrong size")
    magic, version, limit, failures = _LAYOUT.unpack(data)
    if magic != MAGIC:
        raise MalformedData("not a failed-unlock counter file (bad magic)")
    if version != VERSION:
        raise MalformedData(f"failed-unlock counter version {version} is not supported")
    if limit not in LIMITS:
        raise MalformedData(f"failed-unlock limit {limit} is not 0, 5, 10 or 20")
    return Attempts(limit, failures)
