"""Argon2id (RFC 9106) through argon2-cffi: parameters, bounds, calibration.

Production vaults are never weaker than RFC 9106's second recommended option
(t=3, p=4, m=64 MiB). Tests build weak parameters themselves and pass them in;
nothing here reads the environment.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw

from fieldkit.errors import MalformedData

SALT_SIZE = 16
OUTPUT_SIZE = 32
ARGON2_VERSION = 0x13

# Production floor: RFC 9106 section 4, second recommended option.
MIN_TIME_COST = 3
MIN_MEMORY_KIB = 64 * 1024
PARALLELISM = 4
# Preferred memory where the machine has it (the design asks for >= 256 MiB).
PREFERRED_MEMORY_KIB = 256 * 1024
TARGET_SECONDS = 1.0
MAX_CALIBRATED_TIME_COST = 24

# Bounds on parameters read from a keyslot file. A slot is untrusted input, and
# its tag can only be checked after Argon2 has run: these stop a damaged or
# hostile file from asking for gigabytes of memory or hours of work first. The
# upper bounds are the largest parameters `calibrate` produces (so every vault
# fieldkit made opens); the lower ones are Argon2's own minima (weaker test
# profiles are passed in by tests; a weaker slot costs an attacker less, but a
# slot is authenticated with the master key, so only its owner can write one).
BOUND_TIME_COST = (1, MAX_CALIBRATED_TIME_COST)
BOUND_MEMORY_KIB = (8, PREFERRED_MEMORY_KIB)  # up to 256 MiB
BOUND_PARALLELISM = (1, PARALLELISM)


@dataclass(frozen=True)
class Argon2Params:
    time_cost: int
    memory_kib: int
    parallelism: int

    def check_bounds(self) -> None:
        """Raise MalformedData if the parameters are outside what a reader accepts."""
        for value, (low, high), name in (
            (self.time_cost, BOUND_TIME_COST, "time cost"),
            (self.memory_kib, BOUND_MEMORY_KIB, "memory"),
            (self.parallelism, BOUND_PARALLELISM, "parallelism"),
        ):
            if not low <= value <= high:
                raise MalformedData(f"Argon2id {name} {value} is outside {low}..{high}")
        if self.memory_kib < 8 * self.parallelism:
            raise MalformedData("Argon2id memory is below 8 KiB per lane")

    def meets_production_floor(self) -> bool:
        return (
            self.time_cost >= MIN_TIME_COST
            and self.memory_kib >= MIN_MEMORY_KIB
            and self.parallelism >= PARALLELISM
        )

    def describe(self) -> str:
        return f"Argon2id t={self.time_cost}, m={self.memory_kib // 1024} MiB, p={self.parallelism}"


FLOOR = Argon2Params(MIN_TIME_COST, MIN_MEMORY_KIB, PARALLELISM)


def derive_key(secret: bytes, salt: bytes, params: Argon2Params) -> bytes:
    """Derive a 32-byte key-encryption key from a passphrase or recovery code."""
    params.check_bounds()
    if len(salt) != SALT_SIZE:
        raise ValueError("Argon2id salt must be 16 bytes")
    try:
        return hash_secret_raw(
            secret=secret,
            salt=salt,
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
            hash_len=OUTPUT_SIZE,
            type=Type.ID,
            version=ARGON2_VERSION,
        )
    except (HashingError, MemoryError):
        # Allocation (or thread creation) failed: within the bounds, but more than
        # this machine can give right now. The reason says nothing secret.
        raise MalformedData(
            f"Argon2id could not allocate {params.memory_kib // 1024} MiB"
            f" with {params.parallelism} lanes"
        ) from None


def available_memory_kib() -> int | None:
    """Physical memory currently available, or None where the OS does not say."""
    try:
        pages = os.sysconf("SC_AVPHYS_PAGES")
        page_size = os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    if pages <= 0 or page_size <= 0:
        return None
    return int(pages * page_size // 1024)


def calibrate(
    *,
    target_seconds: float = TARGET_SECONDS,
    memory_kib: int | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[Argon2Params, float]:
    """Pick production parameters taking about target_seconds on this machine.

    Memory is 256 MiB where at least four times that is free, else the 64 MiB
    floor. Time cost starts at the floor (3) and grows until one derivation takes
    about target_seconds; it never goes below the floor, even on a slow machine.
    Returns the parameters and the measured seconds for one derivation.
    """
    if memory_kib is None:
        free = available_memory_kib()
        memory_kib = (
            PREFERRED_MEMORY_KIB
            if free is None or free >= 4 * PREFERRED_MEMORY_KIB
            else MIN_MEMORY_KIB
        )
    # Never more than a reader accepts (BOUND_MEMORY_KIB), never less than the floor.
    memory_kib = min(max(memory_kib, MIN_MEMORY_KIB), PREFERRED_MEMORY_KIB)
    salt = os.urandom(SALT_SIZE)
    params = Argon2Params(MIN_TIME_COST, memory_kib, PARALLELISM)
    start = clock()
    derive_key(b"fieldkit calibration", salt, params)
    seconds = max(clock() - start, 1e-6)
    # Argon2 time grows linearly with t at fixed memory.
    per_pass = seconds / MIN_TIME_COST
    time_cost = max(MIN_TIME_COST, min(MAX_CALIBRATED_TIME_COST, round(target_seconds / per_pass)))
    chosen = Argon2Params(time_cost, memory_kib, PARALLELISM)
    return chosen, per_pass * time_cost
